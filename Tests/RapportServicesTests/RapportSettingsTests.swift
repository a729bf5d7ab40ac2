import Foundation
import RapportAMQP
import RapportMonitor
import RapportRuntime
import RapportServices
import RapportSupport
import Testing

/// Settings: a file with defaults for what it leaves out, environment variables over it, and each
/// service's own configuration built from them.
struct RapportSettingsTests {
    @Test func aFileKeepsDefaultsForWhatItLeavesOut() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-settings-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"batch_size": 200, "metrics_port": 0, "thresholds": {"cpu_temperature": {"warning": 75, "critical": 90}}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let s = try RapportSettings.load(file: file.path)
        #expect(s.batchSize == 200 && s.metricsPort == 0)
        #expect(s.prefetch == RapportSettings().prefetch && s.matching == "fuzzy" && s.consumersPerQueue == 2)
        #expect(s.monitorConfiguration.thresholds["cpu_temperature"] != nil)
    }

    @Test func environmentVariablesWinAndBlankOnesAreIgnored() {
        let s = RapportSettings().overridden(by: [
            "RAPPORT_PG_URL": "postgresql://u:p@db/x", "RAPPORT_BATCH_SIZE": "50", "RAPPORT_CONSUMERS": "4",
            "RAPPORT_MATCHING": "exact", "RAPPORT_GOOGLE_ADS_KEY": "", "RAPPORT_PREFETCH": "not a number",
            "RAPPORT_CONNECTORS": "/etc/rapport/connectors",
        ])
        #expect(s.postgresURL == "postgresql://u:p@db/x" && s.batchSize == 50 && s.consumersPerQueue == 4)
        #expect(s.matching == "exact" && s.connectorsPath == "/etc/rapport/connectors")
        #expect(s.googleAdsKey == nil && s.connectorKeys.isEmpty)
        #expect(s.prefetch == RapportSettings().prefetch)
    }

    @Test func encryptionIsOnByDefaultAndNeedsAKEKFile() throws {
        #expect(RapportSettings().encryption)
        // On without a key file is a configuration error naming what to set, not a plaintext fallback.
        #expect { try RapportSettings().keyring() } throws: { "\($0)".contains("RAPPORT_KEK_FILE") }
        let off = RapportSettings().overridden(by: ["RAPPORT_ENCRYPTION": "off"])
        #expect(!off.encryption)
        #expect(try off.keyring() == nil)
        let s = RapportSettings().overridden(by: ["RAPPORT_KEK_FILE": "/etc/rapport/keys/rapport.kek", "RAPPORT_CIPHER_SUITE": "sm4-ctr-hmac-sm3"])
        #expect(s.kekFile == "/etc/rapport/keys/rapport.kek" && s.cipherSuite == "sm4-ctr-hmac-sm3")
        #expect(s.eraseLogFile == "/etc/rapport/keys/rapport.kek.erased")
        #expect { try RapportSettings().overridden(by: ["RAPPORT_KEK_FILE": "/x", "RAPPORT_CIPHER_SUITE": "rot13"]).keyring() } throws: {
            "\($0)".contains("rot13")
        }
    }

    @Test func eachServiceGetsItsOwnConfiguration() throws {
        var s = RapportSettings()
        s.amqpURL = "amqp://app:secret@mq.example:5672/crm"
        s.googleAdsKey = "k"
        s.monitorIntervalSeconds = 7
        s.alertConfirmations = 3
        let c = try s.connections()
        #expect(c.amqp.host == "mq.example" && c.amqp.vhost == "crm" && c.postgresURL == s.postgresURL)
        #expect(!c.brokerAddress.contains("secret"))
        #expect(s.connectorKeys == ["google_ads_key": "k"])
        #expect(s.monitorConfiguration.interval == .seconds(7) && s.monitorConfiguration.confirmations == 3)
    }

    @Test func theRegistryKnowsEveryServiceRapportRunStarts() {
        #expect(Set(ServiceRegistry.names) == ["ingest", "commands", "scheduler", "recycler", "indexer", "auditor", "monitor", "archiver", "outbox"])
    }
}
