import Foundation
import RapportCore
import RapportAdmin
import RapportPostgres
import RapportServices
import RapportStore
import RapportSupport
import RapportTesting
import Testing

/// The workers' PostgreSQL role (a member of rapport_app, migration 0019) writes rows and nothing more.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run least-privilege tests"))
struct LeastPrivilegeIntegrationTests {
    @Test("the workers' role has no DDL, cannot change or delete audit rows, reads wrapped keys only by id, and runs the workers",
          .timeLimit(.minutes(2)))
    func theWorkersRoleWritesRowsAndNothingMore() async throws {
        let env = try TestEnvironment()
        let admin = try env.db()
        let role = "rapport_t_" + UUID().uuidString.prefix(8).lowercased()
        try admin.execute("create role \(role) login password 'least' in role rapport_app")
        defer {
            env.tearDown()
            try? admin.execute("drop role if exists \(role)")
            admin.close()
        }
        var url = URLComponents(string: env.settings.postgresURL)!
        url.user = role
        url.password = "least"
        let db = try PGConnection(url.string!)
        defer { db.close() }

        // Something in every table the checks touch.
        try AuditLog(db: admin).append(actor: "t", action: "test.row", targets: ["x"])
        for sql in ["update audit_log set actor = 'someone'", "delete from audit_log", "truncate audit_log",
                    "create table mine (x int)", "alter table leads add column x int", "drop table leads", "create index on leads (name)",
                    "select wrapped from data_keys", "update data_keys set kek_id = kek_id", "delete from index_keys",
                    "update key_encryption_keys set current = true"] {
            #expect("\(sql) is refused for lack of privilege") { try db.execute(sql) } throws: { ($0 as? PGError)?.sqlState == "42501" }
        }

        // Nothing to migrate: the check passes. With a migration to apply, it says who must run it.
        #expect(try Backup.migrateSafely(url.string!, plan: .takeInto(FileManager.default.temporaryDirectory)).changed.isEmpty)
        try admin.execute("update rapport_schema_migrations set version = -20 where version = 20")  // 20 looks pending
        #expect { try Backup.migrateSafely(url.string!, plan: .takeInto(FileManager.default.temporaryDirectory)) } throws: {
            ($0 as? Backup.Failure)?.code == .notOwner && "\($0)".contains("as the owner")
        }
        try admin.execute("update rapport_schema_migrations set version = 20 where version = -20")

        // The workers run as it: ingest seals under new data keys, an erase deletes them, the chain grows.
        let worker = try WorkerProcess(env: env, overrides: ["RAPPORT_PG_URL": url.string!], captureLog: true, services: "ingest,commands")
        defer { worker.terminate() }
        try env.publish((0..<3).map { DemoData.webForm($0, run: "lp", messageID: "lp-\($0)") })
        do {
            try await env.waitUntil("ingested", timeout: .seconds(60)) { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        } catch {
            Issue.record("the worker's log: \(worker.logText.suffix(2000))")
            throw error
        }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where sealed is not null") == 3)
        let lead: UUID = try admin.query("select lead_id from inbound_ledger where message_id = 'lp-0'").first!.decode("lead_id")
        // Its own wrapped keys by id, through the function; never the table.
        #expect(try db.query("select count(*)::int8 as n from rapport_data_keys(array[$1::uuid])", [lead]).first!.decode("n", as: Int.self) == 1)

        let caller = try RecordCommandsTests.Caller(env)
        let done = try caller.ok("identity.erase", .object(["lead_id": .string(lead.uuidString.lowercased())]))
        #expect(done["keys_destroyed"] == .number(1))
        #expect(try env.count("select count(*)::int8 as n from data_keys where id = $1", [lead]) == 0)
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'lead.erased'") == 1)
        #expect(worker.isRunning)
    }
}
