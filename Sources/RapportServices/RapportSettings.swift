import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportSupport
import RapportAMQP
import RapportMonitor
import RapportRuntime

/// Everything a Rapport process needs to know, from a JSON file and environment variables.
///
/// The executable reads the file and the environment and passes them in; library code never reads
/// the environment itself.
public struct RapportSettings: Sendable, Codable {
    /// Broker URL. Defaults to `amqp://guest:guest@127.0.0.1:5672/%2F`.
    public var amqpURL: String = "amqp://guest:guest@127.0.0.1:5672/%2F"
    /// libpq connection string or URL. Defaults to the local `rapport` database.
    public var postgresURL: String = "postgresql://rapport:rapport@127.0.0.1:5432/rapport"
    /// The topology file. Defaults to `topology/rapport.json`.
    public var topologyPath: String = "topology/rapport.json"
    /// Unacknowledged deliveries per consumer; must exceed `batchSize`. Defaults to `1000`.
    public var prefetch: Int = 1000
    /// Messages per database transaction. Defaults to `500`.
    public var batchSize: Int = 500
    /// How long a partly filled batch waits for more messages. Defaults to `5` ms.
    public var batchWaitMilliseconds: Int = 5
    /// Consumer threads per inbound queue. Two overlap one batch's Swift work with the other's database
    /// work. Defaults to `2`.
    public var consumersPerQueue: Int = 2
    /// Largest accepted message body. Defaults to `65536` bytes.
    public var maxBodyBytes: Int = 65_536
    /// Longest wait between reconnect attempts. Defaults to `5000` ms.
    public var maxBackoffMilliseconds: Int = 5_000
    /// Folder of channel mappings (`<channel>/mapping.json`). Defaults to `connectors`.
    public var connectorsPath: String = "connectors"
    /// The key Google Ads sends as `google_key` (set it from the environment, never in a committed file).
    /// Without it Google Ads leads are dead-lettered as `unknown_connector`. Defaults to none.
    public var googleAdsKey: String?
    /// The Meta app secret, to check `x-hub-signature-256` when the Facebook relay passes it on (set it from
    /// the environment). Defaults to none (the header is not checked).
    public var facebookAppSecret: String?
    /// `fuzzy` (identity resolution) or `exact` (same phone or email only, the spine's rule). Defaults to `fuzzy`.
    public var matching: String = "fuzzy"
    /// Match profiles of candidate leads kept in memory per process (~2.5 KB each). Defaults to `100000`.
    public var profileCacheMB: Int = 32
    /// The RabbitMQ management API, for the broker health check. Defaults to the loopback one.
    public var managementURL: String = "http://guest:guest@127.0.0.1:15672"
    /// How often the monitor runs its checks. Defaults to `30` s.
    public var monitorIntervalSeconds: Int = 30
    /// How often a lasting alert is sent again. Defaults to `3600` s.
    public var alertRenotifySeconds: Int = 3600
    /// Polls in a row a breach must last before it becomes an alert. Defaults to `2`.
    public var alertConfirmations: Int = 2
    /// Per-check thresholds over the defaults, e.g. `{"cpu_temperature": {"warning": 75, "critical": 90}}`.
    public var thresholds: [String: Threshold] = [:]
    /// Loopback port for `/metrics` and `/healthz`; `0` turns them off. Defaults to `9464`.
    public var metricsPort: Int = 9464
    /// Where `rapport backup` and the backup before every migration go. Defaults to `backups`.
    public var backupDirectory: String = "backups"
    /// How far a signed message's `x-rapport-signed-at` may be from the worker's clock: the longest a
    /// message waits in its queue plus clock skew. Defaults to `900` s.
    public var signatureWindowSeconds: Int = 900
    /// The Ed25519 key (hex seed file, 0600) that signs audit checkpoints; without it no checkpoints are
    /// made. Never in the database. Defaults to none.
    public var auditKeyFile: String?
    /// Where signed audit checkpoints are appended, one JSON line each. Defaults to `audit-checkpoints.jsonl`.
    public var auditCheckpointFile: String = "audit-checkpoints.jsonl"
    /// How often the chain's head is signed (when it moved). Defaults to `300` s.
    public var auditCheckpointSeconds: Int = 300
    /// Personal fields sealed under per-person data keys (README: Keys). Off only for comparisons
    /// (`bench/encryption`). Defaults to `true`.
    public var encryption: Bool = true
    /// The key-encryption key file (0600, `rapport keys init`); never in the database or the repository.
    /// With encryption on, a worker without it does not start. Defaults to none.
    public var kekFile: String?
    /// `aes-256-gcm` or `sm4-ctr-hmac-sm3` (the 国密 suite) for new ciphertext; both are always read.
    /// Defaults to `aes-256-gcm`.
    public var cipherSuite: String = CipherSuite.aes256gcm.name

    public init() {}

    enum CodingKeys: String, CodingKey {
        case amqpURL = "amqp_url", postgresURL = "postgres_url", topologyPath = "topology"
        case prefetch, batchSize = "batch_size", batchWaitMilliseconds = "batch_wait_ms"
        case consumersPerQueue = "consumers", maxBodyBytes = "max_body_bytes"
        case maxBackoffMilliseconds = "max_backoff_ms", connectorsPath = "connectors", googleAdsKey = "google_ads_key", facebookAppSecret = "facebook_app_secret"
        case matching, profileCacheMB = "profile_cache_mb"
        case managementURL = "management_url", monitorIntervalSeconds = "monitor_interval_s", alertRenotifySeconds = "alert_renotify_s", alertConfirmations = "alert_confirmations"
        case thresholds, metricsPort = "metrics_port", backupDirectory = "backup_dir"
        case signatureWindowSeconds = "signature_window_s"
        case auditKeyFile = "audit_key_file", auditCheckpointFile = "audit_checkpoint_file", auditCheckpointSeconds = "audit_checkpoint_s"
        case encryption, kekFile = "kek_file", cipherSuite = "cipher_suite"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RapportSettings()
        self.amqpURL = try c.decodeIfPresent(String.self, forKey: .amqpURL) ?? d.amqpURL
        self.postgresURL = try c.decodeIfPresent(String.self, forKey: .postgresURL) ?? d.postgresURL
        self.topologyPath = try c.decodeIfPresent(String.self, forKey: .topologyPath) ?? d.topologyPath
        self.prefetch = try c.decodeIfPresent(Int.self, forKey: .prefetch) ?? d.prefetch
        self.batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        self.batchWaitMilliseconds = try c.decodeIfPresent(Int.self, forKey: .batchWaitMilliseconds) ?? d.batchWaitMilliseconds
        self.consumersPerQueue = try c.decodeIfPresent(Int.self, forKey: .consumersPerQueue) ?? d.consumersPerQueue
        self.maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        self.maxBackoffMilliseconds = try c.decodeIfPresent(Int.self, forKey: .maxBackoffMilliseconds) ?? d.maxBackoffMilliseconds
        self.connectorsPath = try c.decodeIfPresent(String.self, forKey: .connectorsPath) ?? d.connectorsPath
        self.googleAdsKey = try c.decodeIfPresent(String.self, forKey: .googleAdsKey)
        self.facebookAppSecret = try c.decodeIfPresent(String.self, forKey: .facebookAppSecret)
        self.matching = try c.decodeIfPresent(String.self, forKey: .matching) ?? d.matching
        self.profileCacheMB = try c.decodeIfPresent(Int.self, forKey: .profileCacheMB) ?? d.profileCacheMB
        self.managementURL = try c.decodeIfPresent(String.self, forKey: .managementURL) ?? d.managementURL
        self.monitorIntervalSeconds = try c.decodeIfPresent(Int.self, forKey: .monitorIntervalSeconds) ?? d.monitorIntervalSeconds
        self.alertRenotifySeconds = try c.decodeIfPresent(Int.self, forKey: .alertRenotifySeconds) ?? d.alertRenotifySeconds
        self.alertConfirmations = try c.decodeIfPresent(Int.self, forKey: .alertConfirmations) ?? d.alertConfirmations
        self.thresholds = try c.decodeIfPresent([String: Threshold].self, forKey: .thresholds) ?? d.thresholds
        self.metricsPort = try c.decodeIfPresent(Int.self, forKey: .metricsPort) ?? d.metricsPort
        self.backupDirectory = try c.decodeIfPresent(String.self, forKey: .backupDirectory) ?? d.backupDirectory
        self.signatureWindowSeconds = try c.decodeIfPresent(Int.self, forKey: .signatureWindowSeconds) ?? d.signatureWindowSeconds
        self.auditKeyFile = try c.decodeIfPresent(String.self, forKey: .auditKeyFile)
        self.auditCheckpointFile = try c.decodeIfPresent(String.self, forKey: .auditCheckpointFile) ?? d.auditCheckpointFile
        self.auditCheckpointSeconds = try c.decodeIfPresent(Int.self, forKey: .auditCheckpointSeconds) ?? d.auditCheckpointSeconds
        self.encryption = try c.decodeIfPresent(Bool.self, forKey: .encryption) ?? d.encryption
        self.kekFile = try c.decodeIfPresent(String.self, forKey: .kekFile)
        self.cipherSuite = try c.decodeIfPresent(String.self, forKey: .cipherSuite) ?? d.cipherSuite
    }

    /// Reads a settings file (JSON); missing keys keep their defaults.
    public static func load(file path: String) throws -> RapportSettings {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(RapportSettings.self, from: data)
    }

    /// Applies `RAPPORT_*` variables from the given environment over these settings.
    public func overridden(by env: [String: String]) -> RapportSettings {
        var s = self
        if let v = env["RAPPORT_AMQP_URL"] { s.amqpURL = v }
        if let v = env["RAPPORT_PG_URL"] { s.postgresURL = v }
        if let v = env["RAPPORT_TOPOLOGY"] { s.topologyPath = v }
        if let v = env["RAPPORT_PREFETCH"].flatMap(Int.init) { s.prefetch = v }
        if let v = env["RAPPORT_BATCH_SIZE"].flatMap(Int.init) { s.batchSize = v }
        if let v = env["RAPPORT_CONSUMERS"].flatMap(Int.init) { s.consumersPerQueue = v }
        if let v = env["RAPPORT_MAX_BODY_BYTES"].flatMap(Int.init) { s.maxBodyBytes = v }
        if let v = env["RAPPORT_CONNECTORS"] { s.connectorsPath = v }
        if let v = env["RAPPORT_GOOGLE_ADS_KEY"], !v.isEmpty { s.googleAdsKey = v }
        if let v = env["RAPPORT_FACEBOOK_APP_SECRET"], !v.isEmpty { s.facebookAppSecret = v }
        if let v = env["RAPPORT_MATCHING"], !v.isEmpty { s.matching = v }
        if let v = env["RAPPORT_PROFILE_CACHE_MB"].flatMap(Int.init) { s.profileCacheMB = v }
        if let v = env["RAPPORT_MGMT_URL"], !v.isEmpty { s.managementURL = v }
        if let v = env["RAPPORT_MONITOR_INTERVAL"].flatMap(Int.init) { s.monitorIntervalSeconds = v }
        if let v = env["RAPPORT_METRICS_PORT"].flatMap(Int.init) { s.metricsPort = v }
        if let v = env["RAPPORT_BACKUP_DIR"], !v.isEmpty { s.backupDirectory = v }
        if let v = env["RAPPORT_SIGNATURE_WINDOW_S"].flatMap(Int.init) { s.signatureWindowSeconds = v }
        if let v = env["RAPPORT_AUDIT_KEY_FILE"], !v.isEmpty { s.auditKeyFile = v }
        if let v = env["RAPPORT_AUDIT_CHECKPOINT_FILE"], !v.isEmpty { s.auditCheckpointFile = v }
        if let v = env["RAPPORT_AUDIT_CHECKPOINT_S"].flatMap(Int.init) { s.auditCheckpointSeconds = v }
        if let v = env["RAPPORT_ENCRYPTION"], !v.isEmpty { s.encryption = !["0", "off", "false", "no"].contains(v.lowercased()) }
        if let v = env["RAPPORT_KEK_FILE"], !v.isEmpty { s.kekFile = v }
        if let v = env["RAPPORT_CIPHER_SUITE"], !v.isEmpty { s.cipherSuite = v }
        return s
    }

    /// The broker configuration, with a connection name for the management UI.
    public func amqpConfiguration(name: String) throws -> AMQPConnection.Configuration {
        var c = try AMQPConnection.Configuration(url: self.amqpURL)
        c.connectionName = name
        return c
    }

    /// Broker and database, for the runtime.
    public func connections() throws -> ServerConnections {
        ServerConnections(amqp: try AMQPConnection.Configuration(url: self.amqpURL), postgresURL: self.postgresURL)
    }

    /// The keyring from `kek_file`; `nil` with encryption off. A configuration error (no file, a file others
    /// may read, an unknown suite) stops the worker before it connects.
    public func keyring() throws -> Keyring? {
        guard self.encryption else { return nil }
        guard let suite = CipherSuite(name: self.cipherSuite) else {
            throw KeyringError(.kekMissing, "cipher_suite is \(CipherSuite.allCases.map(\.name).joined(separator: " or ")), not \(self.cipherSuite)")
        }
        guard let file = self.kekFile else {
            throw KeyringError(.kekMissing, "encryption is on but no kek_file is set (RAPPORT_KEK_FILE); make one with `rapport keys init --file PATH`")
        }
        return try Keyring(kekFile: file, suite: suite)
    }

    /// The erase log kept beside the KEK file (re-applied after a restore).
    public var eraseLogFile: String? { self.kekFile.map { $0 + ".erased" } }

    /// Secrets connectors may name as their `shared_key` in `connectors/routes.json`.
    public var connectorKeys: [String: String] {
        var keys: [String: String] = [:]
        if let k = self.googleAdsKey { keys["google_ads_key"] = k }
        if let k = self.facebookAppSecret { keys["facebook_app_secret"] = k }
        return keys
    }

    /// The monitor's settings.
    public var monitorConfiguration: MonitorService.Configuration {
        var c = MonitorService.Configuration()
        c.interval = .seconds(self.monitorIntervalSeconds)
        c.renotify = TimeInterval(self.alertRenotifySeconds)
        c.confirmations = self.alertConfirmations
        c.thresholds = self.thresholds
        return c
    }
}
