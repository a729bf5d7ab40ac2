import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

/// Ad-platform leads through the `ads` queue: mapped by connector, deduplicated by the platform's lead id.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run ads integration tests"))
struct AdsIntegrationTests {
    static func sample(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("connectors/\(path)")))
    }

    /// The `ads` queue's consumer with the decoders `connectors/routes.json` names and the demo Google key.
    static func adsConsumer(_ env: TestEnvironment) throws -> QueueConsumer<IngestHandler> {
        var s = env.settings
        s.googleAdsKey = "rapport-demo-key"
        (s.prefetch, s.batchSize, s.batchWaitMilliseconds) = (20, 10, 5)
        let ads = try InboundRoutes.load(connectorsDirectory: s.connectorsPath)
            .decoder(queue: "rapport.inbound.ads", channel: "ads", maxBodyBytes: 65_536, sharedKeys: s.connectorKeys)
        #expect(ads.unavailable.isEmpty, "\(ads.unavailable)")
        return try env.ingestConsumer(queue: "rapport.inbound.ads", decoder: ads, settings: s)
    }

    static func message(_ body: [UInt8], connector: String, messageID: String) -> InboundMessage {
        var p = AMQPProperties(contentType: "application/json", messageID: messageID, appID: connector, timestamp: Date())
        p.type = connector
        return InboundMessage(routingKey: "inbound.ads.\(connector)", body: body, properties: p)
    }

    @Test(.timeLimit(.minutes(2)))
    func resentWebhooksCreateNothingNewAndWrongKeysAreRefused() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let consumer = try Self.adsConsumer(env)
        let workers = try env.startWorkers(ingest: consumer)
        defer { workers.stop() }

        let google = try Self.sample("google-ads/sample.json")
        var wrongKey = try JSONValue.parse(google).objectValue!
        wrongKey["google_key"] = .string("guessed")
        wrongKey["lead_id"] = .string("another-lead")
        try env.publish([
            Self.message(google, connector: "google-ads", messageID: "delivery-1"),
            // Google retries the webhook: same lead id, new delivery id.
            Self.message(google, connector: "google-ads", messageID: "delivery-2"),
            Self.message(try Self.sample("facebook-lead-ads/sample.json"), connector: "facebook-lead-ads", messageID: "fb-1"),
            Self.message(Array(JSONValue.object(wrongKey).jsonString.utf8), connector: "google-ads", messageID: "delivery-3"),
            Self.message(Array("{}".utf8), connector: "tiktok", messageID: "tt-1"),
        ])
        try await env.waitUntil("all accounted for") {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 2
                && env.count("select count(*)::int8 as n from dead_letters") == 2
                && (consumer.handler.counters.snapshot["duplicate_message"] ?? 0) == 1
        }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where message_id like 'google-ads:%'") == 1)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where message_id = 'facebook-lead-ads:1183264412345678'") == 1)
        #expect(try env.count("select count(*)::int8 as n from dead_letters where error_code = 'invalid_field' and headers->>'x-rapport-error-field' = 'google_key'") == 1)
        #expect(try env.count("select count(*)::int8 as n from dead_letters where error_code = 'unknown_connector'") == 1)

        // The ledger export names the platform's own lead id, for the platform to join back.
        let db = try env.db()
        defer { db.close() }
        var json = ""
        try LedgerExport.run(db: db, since: nil, format: .json) { json += $0 }
        let rows = try json.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)).objectValue ?? [:] }
        let facebook = rows.first { $0["message_id"] == .string("facebook-lead-ads:1183264412345678") }
        #expect(facebook?["upstream_key"] == .string("1183264412345678"))
    }

    @Test(.timeLimit(.minutes(2)))
    func aLeadTheDatabaseRefusesKeepsItsLeadIDInTheExport() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers(ingest: try Self.adsConsumer(env))
        defer { workers.stop() }

        // PostgreSQL stores no NUL character: the lead decodes but the database refuses it (storage_rejected).
        var lead = try JSONValue.parse(try Self.sample("facebook-lead-ads/sample.json")).objectValue!
        lead["id"] = .string("1183264400000099")
        lead["ad_name"] = .string("bad\u{0000}name")
        try env.publish([Self.message(Array(JSONValue.object(lead).jsonString.utf8), connector: "facebook-lead-ads", messageID: "fb-nul")])
        try await env.waitUntil("dead-lettered") {
            try env.count("select count(*)::int8 as n from dead_letters where error_code = 'storage_rejected'") == 1
        }
        let db = try env.db()
        defer { db.close() }
        var text = ""
        try LedgerExport.run(db: db, since: nil, format: .csv) { text += $0 }
        #expect(text.split(separator: "\n").last?.hasSuffix(",1183264400000099") == true, "\(text)")
    }
}
