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

/// Manual merge and unmerge on the real database.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run merge integration tests"))
struct MergeIntegrationTests {
    static let snapshotSQL = """
        select coalesce(jsonb_agg(x order by x::text), '[]')::text as n from (
          select to_jsonb(l) - 'updated_at' as x from leads l
          union all select to_jsonb(i) from lead_identities i
          union all select to_jsonb(k) from lead_keys k
          union all select jsonb_build_object('m', message_id, 'lead', lead_id) from inbound_ledger) s
        """

    @Test(.timeLimit(.minutes(2)))
    func mergeMovesEverythingAndUnmergeRestoresIt() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish([DemoData.webForm(1, run: "m", messageID: "m-1"), DemoData.webForm(2, run: "m", messageID: "m-2"),
                         DemoData.webForm(1, run: "m", messageID: "m-3", phoneStyle: 1)])
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        let db = try env.db()
        defer { db.close() }
        let ids: [UUID] = try db.query("select lead_id from inbound_ledger where message_id in ('m-1', 'm-2') order by message_id")
            .map { try $0.decode("lead_id") }
        let (a, b) = (ids[0], ids[1])

        let merge = try LeadMerge(db: db).merge(winner: a, loser: b, actor: "test", reason: "same person, two phones")
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where lead_id = $1", [a]) == 3)
        #expect(try env.count("select count(*)::int8 as n from lead_identities where lead_id = $1", [b]) == 0)
        #expect(try env.count("select count(*)::int8 as n from leads where id = $1 and merged_into = $2", [b, a]) == 1)
        #expect(try env.count("select touch_count::int8 as n from leads where id = $1", [a]) == 3)
        #expect(throws: LeadMerge.MergeError.self) { try LeadMerge(db: db).merge(winner: a, loser: b, actor: "test") }

        // A new message from the merged-away person now lands on the winner.
        try env.publish([DemoData.webForm(2, run: "m", messageID: "m-4", phoneStyle: 2)])
        try await env.waitUntil("new message") { try env.count("select count(*)::int8 as n from inbound_ledger") == 4 }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where message_id = 'm-4' and lead_id = $1", [a]) == 1)
        #expect(try env.count("select count(*)::int8 as n from leads where merged_into is null") == 1)

        // Undo restores both leads, their keys and their messages exactly as they were.
        try env.publish([DemoData.webForm(3, run: "m", messageID: "m-5"), DemoData.webForm(4, run: "m", messageID: "m-6")])
        try await env.waitUntil("two more") { try env.count("select count(*)::int8 as n from inbound_ledger") == 6 }
        let more: [UUID] = try db.query("select lead_id from inbound_ledger where message_id in ('m-5', 'm-6') order by message_id")
            .map { try $0.decode("lead_id") }
        let snapshot = try db.query(Self.snapshotSQL).first!["n"]!
        let second = try LeadMerge(db: db).merge(winner: more[0], loser: more[1], actor: "test")
        #expect(try db.query(Self.snapshotSQL).first!["n"]! != snapshot)
        try LeadMerge(db: db).unmerge(second, actor: "test")
        #expect(try db.query(Self.snapshotSQL).first!["n"]! == snapshot)
        #expect(throws: LeadMerge.MergeError.self) { try LeadMerge(db: db).unmerge(second, actor: "test") }
        // The first merge was followed by new messages on its winner: undoing it is still allowed and
        // gives the loser its own messages back.
        try LeadMerge(db: db).unmerge(merge, actor: "test")
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where lead_id = $1", [b]) == 1)

        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key in ('lead.merged', 'lead.unmerged')") == 4)
    }
}

/// The same merges as commands on `rapport.commands`, through the command consumer.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run command integration tests"))
struct CommandIntegrationTests {
    static func command(_ key: String, id: String, _ body: String) -> InboundMessage {
        InboundMessage(routingKey: key, body: Array(body.utf8),
                       properties: AMQPProperties(contentType: "application/json", messageID: id, appID: "crm-ui"))
    }

    @Test(.timeLimit(.minutes(2)))
    func commandsMergeUnmergeAndReviewOnceEach() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers(commands: true)
        defer { workers.stop() }
        try env.publish([DemoData.webForm(1, run: "c", messageID: "c-1"), DemoData.webForm(2, run: "c", messageID: "c-2")])
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 2 }
        let db = try env.db()
        defer { db.close() }
        let ids: [String] = try db.query("select lead_id::text from inbound_ledger order by message_id").map { try $0.decode("lead_id") }
        let (a, b) = (ids[0], ids[1])
        func processed(_ id: String) throws -> String? { try db.query("select outcome from processed_commands where message_id = $1", [id]).first?["outcome"] }

        // Merge, then the same command again (a redelivery or a double click): one merge.
        let merge = Self.command("identity.merge", id: "cmd-1", #"{"winner_lead_id": "\#(a)", "loser_lead_id": "\#(b)", "actor": "rep-li", "reason": "same person"}"#)
        try env.publish([merge], exchange: "rapport.commands")
        try await env.waitUntil("merge applied") { try processed("cmd-1") == "done" }
        try env.publish([merge], exchange: "rapport.commands")
        // A different command for the same pair is refused (already merged) and dead-lettered with why;
        // a malformed one names its field. Both must reach the archive before we look at the merge count.
        try env.publish([Self.command("identity.merge", id: "cmd-2", #"{"winner_lead_id": "\#(a)", "loser_lead_id": "\#(b)", "actor": "rep-wang"}"#),
                         Self.command("identity.merge", id: "cmd-3", #"{"winner_lead_id": "\#(a)", "actor": "rep-wang"}"#)],
                        exchange: "rapport.commands")
        try await env.waitUntil("two dead letters") { try env.count("select count(*)::int8 as n from dead_letters") == 2 }
        #expect(try env.count("select count(*)::int8 as n from lead_merges") == 1)
        #expect(try env.count("select count(*)::int8 as n from leads where id = $1::uuid and merged_into = $2::uuid", [b, a]) == 1)
        #expect(try processed("cmd-2") == "rejected")
        #expect(try processed("cmd-3") == nil)
        let letters = try db.query("select message_id, error_code, error, headers->>'x-rapport-error-field' as field from dead_letters order by message_id")
        #expect(letters.map { $0["error_code"] } == ["command_rejected", "invalid_field"])
        #expect(letters[0]["error"]?.contains("already merged") == true)
        #expect(letters[1]["field"] == "loser_lead_id")

        // Undo by command.
        let mergeID: Int64 = try db.query("select id from lead_merges").first!.decode("id")
        try env.publish([Self.command("identity.unmerge", id: "cmd-4", #"{"merge_id": \#(mergeID), "actor": "rep-li"}"#)], exchange: "rapport.commands")
        try await env.waitUntil("unmerge applied") { try processed("cmd-4") == "done" }
        #expect(try env.count("select count(*)::int8 as n from leads where merged_into is null") == 2)

        // A review decision from the duplicate queue merges the pair, older lead winning, and closes the candidate.
        let candidate: Int64 = try db.query(
            """
            insert into duplicate_candidates (lead_id, candidate_lead_id, score, reasons, source, message_id)
            values ($1::uuid, $2::uuid, 4.2, '["name similar"]', 'test', 'c-2') returning id
            """, [b, a]).first!.decode("id")
        try env.publish([Self.command("identity.review", id: "cmd-5", #"{"candidate_id": \#(candidate), "decision": "merge", "actor": "rep-li"}"#)],
                        exchange: "rapport.commands")
        try await env.waitUntil("review applied") { try processed("cmd-5") == "done" }
        // The actor is the broker-validated sender (the test's login), not the body's "actor".
        #expect(try env.count("select count(*)::int8 as n from duplicate_candidates where status = 'merged' and decided_by = $1 and merge_id is not null",
                              [try env.settings.amqpConfiguration(name: "x").username]) == 1)
        #expect(try env.count("select count(*)::int8 as n from leads where id = $1::uuid and merged_into = $2::uuid", [b, a]) == 1)
        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key in ('lead.merged', 'lead.unmerged')") == 3)
    }
}
