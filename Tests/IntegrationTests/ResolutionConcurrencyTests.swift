import Foundation
import RapportAMQP
import RapportPostgres
import RapportServices
import RapportSupport
import RapportTesting
import Testing

/// Fuzzy identity decisions under concurrency: several consumers in several processes end with exactly
/// the clusters one consumer makes, even for copies of a person that share no phone or email and arrive
/// at the same instant (only the resolution log, read under the commit lock, makes the later one look again).
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run concurrency tests"))
struct ResolutionConcurrencyTests {
    /// Two copies per person: one with a phone, one with an email; same name, company and address. They
    /// go out in blocks of `block` (a consumer's prefetch): the first copies of some people, then their
    /// second copies, so two consumers get the two copies and resolve them at the same time.
    static func messages(people: Int, block: Int, run: String) -> [InboundMessage] {
        func message(_ i: Int, copy: Int) -> InboundMessage {
            let p = DemoData.person(i, run: run)
            var form: [String: JSONValue] = [
                "name": .string(p.name), "company": .string("星河\(i % 7)科技有限公司"),
                "address": .string("上海市浦东新区世纪大道\(i + 1)号"),
            ]
            form[copy == 0 ? "phone" : "email"] = .string(copy == 0 ? p.phone : p.email)
            return InboundMessage(
                routingKey: "inbound.webform.site", body: Array(JSONValue.object(form).jsonString.utf8),
                properties: AMQPProperties(contentType: "application/json", messageID: "\(run)-\(i)-\(copy)", appID: "site"))
        }
        var out: [InboundMessage] = []
        for start in stride(from: 0, to: people, by: block) {
            let group = start..<min(start + block, people)
            out += group.map { message($0, copy: 0) } + group.map { message($0, copy: 1) }
        }
        return out
    }

    /// Message ids grouped by the lead they went to.
    static func clusters(_ env: TestEnvironment) throws -> Set<Set<String>> {
        let db = try env.db()
        defer { db.close() }
        var byLead: [String: Set<String>] = [:]
        for r in try db.query("select lead_id::text as lead, message_id from inbound_ledger") {
            byLead[r["lead"] ?? "", default: []].insert(r["message_id"] ?? "")
        }
        return Set(byLead.values)
    }

    @Test(.timeLimit(.minutes(3)))
    func severalProcessesMakeTheClustersOneConsumerMakes() async throws {
        let people = 300
        let messages = Self.messages(people: people, block: 20, run: "rc")

        let one = try TestEnvironment(batchSize: 10)
        defer { one.tearDown() }
        let single = try one.startWorkers()
        try one.publish(messages)
        try await one.waitUntil("one consumer done", timeout: .seconds(90)) {
            try one.count("select count(*)::int8 as n from inbound_ledger") == messages.count
        }
        single.stop()
        let expected = try Self.clusters(one)
        // The matcher joins copies that share no exact key, or this test proves nothing about the locks.
        #expect(expected.count < messages.count * 9 / 10, "only \(messages.count - expected.count) fuzzy merges")

        let many = try TestEnvironment(batchSize: 10)
        defer { many.tearDown() }
        let workers = try (0..<2).map { _ in try WorkerProcess(env: many) }  // two consumers each
        defer { for w in workers { w.terminate() } }
        try many.publish(messages)
        try await many.waitUntil("four consumers in two processes done", timeout: .seconds(120)) {
            try many.count("select count(*)::int8 as n from inbound_ledger") == messages.count
        }
        #expect(try Self.clusters(many) == expected)
        for w in workers { #expect(w.terminate() == 0) }
    }
}
