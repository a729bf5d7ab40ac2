import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Synchronization
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding

/// Whether the live broker and database are configured (ops/test sets these).
public let liveServers: Bool = {
    let env = ProcessInfo.processInfo.environment
    return env["RAPPORT_PG_URL"] != nil && env["RAPPORT_AMQP_URL"] != nil && env["RAPPORT_MGMT_URL"] != nil
}()

/// A fresh RabbitMQ vhost and PostgreSQL database for one test, with the topology applied and the schema
/// migrated, so tests run in parallel without seeing each other's messages or rows.
public final class TestEnvironment: @unchecked Sendable {
    public let name: String
    public let settings: RapportSettings
    public let topology: Topology
    /// The keyring of this environment's KEK file (the one `rapport run` here would load).
    public let keyring: Keyring
    private let adminURL: String
    private let mgmt: (base: String, user: String, password: String)

    public static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public init(maxBodyBytes: Int = 65_536, batchSize: Int = 100) throws {
        let env = ProcessInfo.processInfo.environment
        self.name = "rt_" + UUID().uuidString.prefix(8).lowercased()
        let mgmtURL = URLComponents(string: env["RAPPORT_MGMT_URL"] ?? "http://guest:guest@127.0.0.1:15672")!
        self.mgmt = ("\(mgmtURL.scheme ?? "http")://\(mgmtURL.host ?? "127.0.0.1"):\(mgmtURL.port ?? 15672)",
                     mgmtURL.user ?? "guest", mgmtURL.password ?? "guest")
        let pgURL = env["RAPPORT_PG_URL"]!
        self.adminURL = env["RAPPORT_PG_ADMIN_URL"] ?? pgURL
        var amqp = URLComponents(string: env["RAPPORT_AMQP_URL"]!)!
        amqp.percentEncodedPath = "/" + self.name

        var s = RapportSettings()
        s.amqpURL = amqp.string!
        s.postgresURL = Self.replacingDatabase(in: pgURL, with: self.name)
        s.topologyPath = Self.repoRoot.appendingPathComponent("topology/rapport.json").path
        s.connectorsPath = Self.repoRoot.appendingPathComponent("connectors").path
        s.maxBodyBytes = maxBodyBytes
        s.batchSize = batchSize
        s.prefetch = batchSize * 2
        s.batchWaitMilliseconds = 20
        s.maxBackoffMilliseconds = 500
        // Encryption is on, as in production: a KEK of this environment's own, made here.
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-test-keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        s.kekFile = keys.appendingPathComponent("\(self.name).kek").path
        try KeyEncryptionKey.save([KeyEncryptionKey.generate(suite: .aes256gcm)], path: s.kekFile!)
        self.settings = s
        self.keyring = try Keyring(kekFile: s.kekFile!)
        self.topology = try TopologyApplier.load(path: s.topologyPath)

        try self.management("PUT", "/api/vhosts/\(self.name)", body: "{}")
        try self.management("PUT", "/api/permissions/\(self.name)/\(self.mgmt.user)",
                            body: #"{"configure":".*","write":".*","read":".*"}"#)
        let admin = try PGConnection(self.adminURL)
        defer { admin.close() }
        try admin.execute("create database \(self.name)")
        let db = try self.db()
        defer { db.close() }
        try Schema.migrate(db)
        try self.keyring.attach(db: db)
        // The tests' broker login sends commands as an admin (production has rapport-admin for that).
        try Principals(db: db).upsert(.init(name: try self.settings.amqpConfiguration(name: "x").username, role: .admin))
        let conn = try self.amqp()
        defer { conn.close() }
        try TopologyApplier.apply(self.topology, on: conn)
    }

    /// Drops the vhost and the database.
    public func tearDown() {
        for f in [self.settings.kekFile, self.settings.eraseLogFile].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: f) }
        _ = try? self.management("DELETE", "/api/vhosts/\(self.name)")
        if let admin = try? PGConnection(self.adminURL) {
            _ = try? admin.execute("drop database if exists \(self.name) with (force)")
            admin.close()
        }
    }

    public static func replacingDatabase(in url: String, with db: String) -> String {
        if var c = URLComponents(string: url), c.scheme?.hasPrefix("postgres") == true {
            c.path = "/" + db
            return c.string!
        }
        return url + " dbname=" + db
    }

    public func db() throws -> PGConnection { try PGConnection(self.settings.postgresURL) }

    public func amqp(name: String = "rapport-test") throws -> AMQPConnection {
        try AMQPConnection(configuration: self.settings.amqpConfiguration(name: name))
    }

    /// Calls the RabbitMQ management API; returns the response body.
    @discardableResult
    public func management(_ method: String, _ path: String, body: String? = nil) throws -> String {
        var args = ["-sS", "-f", "-u", "\(self.mgmt.user):\(self.mgmt.password)", "-X", method,
                    "-H", "content-type: application/json", self.mgmt.base + path]
        if let body { args += ["-d", body] }
        let (status, out) = try run("/usr/bin/curl", args)
        guard status == 0 else { throw TestFailure("management API \(method) \(path) failed: \(out)") }
        return out
    }

    /// Creates the topology's broker users with development passwords (each user's password is its
    /// name) and gives them their permissions in this vhost.
    public func applyIdentities() throws {
        let m = ProcessInfo.processInfo.environment["RAPPORT_MGMT_URL"] ?? "http://guest:guest@127.0.0.1:15672"
        try IdentityApplier(managementURL: m, vhost: self.name).apply(self.topology, devPasswords: true)
    }

    /// A connection logged in as broker user `user` with its development password.
    public func amqp(as user: String) throws -> AMQPConnection {
        var c = try self.settings.amqpConfiguration(name: "rapport-test-\(user)")
        c.username = user
        c.password = user
        return try AMQPConnection(configuration: c)
    }

    /// Publishes messages to `rapport.inbound` with confirms (as broker user `user`, when given).
    public func publish(_ messages: [InboundMessage], exchange: String = "rapport.inbound", as user: String? = nil) throws {
        let conn = try user.map { try self.amqp(as: $0) } ?? self.amqp(name: "rapport-test-publisher")
        defer { conn.close() }
        try conn.enableConfirms()
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            for var m in messages[chunk..<min(chunk + 500, messages.count)] {
                // Commands name their sender; the broker checks it against the login.
                if exchange == "rapport.commands" && m.properties.userID == nil { m.properties.userID = conn.configuration.username }
                try conn.publish(exchange: exchange, routingKey: m.routingKey, body: m.body, properties: m.properties)
            }
            let r = try conn.waitForConfirms()
            guard r.allConfirmed else { throw TestFailure("publish not confirmed") }
        }
    }

    /// One number from SQL (`select … as n`).
    public func count(_ sql: String, _ params: [(any PGEncodable)?] = []) throws -> Int {
        let db = try self.db()
        defer { db.close() }
        return try db.query(sql, params).first?.decode("n") ?? 0
    }

    /// Polls until `condition` holds or the timeout passes.
    public func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        if try condition() { return }
        throw TestFailure("timed out waiting for: \(what)")
    }

    // MARK: Workers in this process

    /// The services as `rapport run` builds them, for this environment's settings (or `settings`).
    public func registry(settings: RapportSettings? = nil) throws -> ServiceRegistry {
        try ServiceRegistry(settings: settings ?? self.settings, topology: self.topology, logger: quietLogger)
    }

    /// The ingest consumer of one queue, with the decoder `connectors/routes.json` gives it (or `decoder`).
    public func ingestConsumer(queue: String = "rapport.inbound.webform", decoder: (any InboundDecoder)? = nil,
                               settings: RapportSettings? = nil) throws -> QueueConsumer<IngestHandler> {
        let registry = try self.registry(settings: settings)
        if let decoder { return registry.ingest(queue: queue, decoder: decoder) }
        guard let consumer = try registry.ingestConsumers().first(where: { $0.configuration.queue == queue }) else {
            throw TestFailure("no inbound queue \(queue) in the topology")
        }
        return consumer
    }

    /// Starts the ingest consumer, the dead-letter archiver and the outbox relay on threads (and the
    /// command consumers, if asked).
    public func startWorkers(ingest: QueueConsumer<IngestHandler>? = nil, commands: Bool = false) throws -> RunningWorkers {
        let registry = try self.registry()
        let ingest = try ingest ?? self.ingestConsumer()
        let archiver = registry.archiver()
        let relay = registry.periodic("outbox", OutboxRelay())
        var loops: [@Sendable (StopSignal) -> Void] = [
            { ingest.run(index: 0, stop: $0) },
            { archiver.run(index: 0, stop: $0) },
            { relay.run(index: 0, stop: $0) },
        ]
        if commands {
            let identity = registry.commands(queue: "rapport.commands.identity", handler: IdentityCommandHandler(eraseLog: self.settings.eraseLogFile, profileCache: registry.profileCache))
            let sales = registry.commands(queue: "rapport.commands.sales", handler: SalesCommandHandler(keyring: registry.keyring))
            loops.append { identity.run(index: 0, stop: $0) }
            loops.append { sales.run(index: 0, stop: $0) }
            let records = registry.commands(queue: "rapport.commands.records", handler: RecordCommandHandler(keyring: registry.keyring))
            loops.append { records.run(index: 0, stop: $0) }
        }
        return RunningWorkers(loops: loops, counters: ingest.handler.counters)
    }
}

/// Workers log only errors in tests; the assertions say what went wrong.
public let quietLogger: Logger = {
    var l = Logger(label: "test") { StreamLogHandler.standardError(label: $0) }
    l.logLevel = .error
    return l
}()

/// Worker loops running on threads until ``stop()``.
public final class RunningWorkers: Sendable {
    private let stopSignal = StopSignal()
    private let done: DispatchSemaphore
    private let count: Int
    public let counters: IngestCounters

    public init(loops: [@Sendable (StopSignal) -> Void], counters: IngestCounters) {
        self.count = loops.count
        self.counters = counters
        self.done = DispatchSemaphore(value: 0)
        for loop in loops {
            let stop = self.stopSignal, done = self.done
            Thread { loop(stop); done.signal() }.start()
        }
    }

    public func stop() {
        self.stopSignal.set()
        for _ in 0..<self.count { self.done.wait() }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { self.description = d }
}

/// Runs a program to completion; returns its exit status and combined output.
@discardableResult
public func run(_ path: String, _ args: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
