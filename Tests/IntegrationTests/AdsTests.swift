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

    static func message(_ body: [UInt8], connector: String, messageID: String) -> InboundMessage {
        var p = AMQPProperties(contentType: "application/json", messageID: messageID, appID: connector, timestamp: Date())
        p.type = connector
        return InboundMessage(routingKey: "inbound.ads.\(connector)", body: body, properties: p)
    }

    @Test(.timeLimit(.minutes(2)))
    func resentWebhooksCreateNothingNewAndWrongKeysAreRefused() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        var s = env.settings
        s.googleAdsKey = "rapport-demo-key"
        (s.prefetch, s.batchSize, s.batchWaitMilliseconds) = (20, 10, 5)
        let ads = try InboundRoutes.load(connectorsDirectory: s.connectorsPath)
            .decoder(queue: "rapport.inbound.ads", channel: "ads", maxBodyBytes: 65_536, sharedKeys: s.connectorKeys)
        #expect(ads.unavailable.isEmpty, "\(ads.unavailable)")
        let consumer = try env.ingestConsumer(queue: "rapport.inbound.ads", decoder: ads, settings: s)
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
    }
}
