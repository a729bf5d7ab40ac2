import Foundation
import RapportCore
import RapportPostgres
import RapportStore
import RapportSupport
import RapportTesting
import Testing

/// Fuzzy batches decide outside any lock and commit in order: a batch overtaken by a commit that matters
/// to it plans again, one overtaken by an unrelated commit writes what it planned. Made deterministic by
/// holding the commit lock while both batches plan.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run concurrency tests"))
struct OptimisticResolutionTests {
    static let lock: Int64 = 0x5241_5050_4f52_5431  // LeadStore's resolution lock

    /// Runs two pieces of work at once, each on its own thread and connection, while another connection
    /// holds the commit lock, so that both look and plan before either commits; then lets them go.
    static func race<A: Sendable, B: Sendable>(_ env: TestEnvironment, _ a: @escaping @Sendable (PGConnection) throws -> A,
                                               _ b: @escaping @Sendable (PGConnection) throws -> B) async throws -> (A, B) {
        let holder = try env.db()
        defer { holder.close() }
        try holder.query("begin")
        try holder.query("select pg_advisory_xact_lock($1)", [Self.lock])
        async let first = Self.onThread { () throws -> A in
            let db = try env.db()
            defer { db.close() }
            return try a(db)
        }
        async let second = Self.onThread { () throws -> B in
            let db = try env.db()
            defer { db.close() }
            return try b(db)
        }
        do {
            // Generous: on a loaded machine both may take a while to plan before they queue for the lock.
            try await env.waitUntil("both waiting to commit", timeout: .seconds(120)) {
                try env.count("""
                    select count(*)::int8 as n from pg_stat_activity
                    where datname = current_database() and wait_event_type = 'Lock' and query like '%pg_advisory_xact_lock%'
                    """) == 2
            }
        } catch {
            // Let the racers go before this scope awaits them (async let does, even when throwing):
            // otherwise they wait for the lock forever and the test run hangs instead of failing.
            try? holder.query("rollback")
            _ = try? await first
            _ = try? await second
            throw error
        }
        try holder.query("commit")
        return (try await first, try await second)
    }

    /// Two batches raced: each one's commit stats.
    static func race(_ env: TestEnvironment, _ a: [LeadSubmission], _ b: [LeadSubmission]) async throws -> [LeadStore.CommitStats] {
        let (x, y) = try await Self.race(env, { try LeadStore(connection: $0, profileCache: ProfileCache()).resolve(a).commit },
                                         { try LeadStore(connection: $0, profileCache: ProfileCache()).resolve(b).commit })
        return [x, y]
    }

    /// Blocking work on a thread of its own: a batch waiting for a lock must not hold a task-pool thread
    /// (the pool has one per core, and the test waits on it too).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread { c.resume(with: Result { try body() }) }.start()
        }
    }

    static func person(_ id: String, name: String, phone: String? = nil, email: String? = nil) -> LeadSubmission {
        LeadSubmission(source: "site", channel: "webform", messageID: id, name: name, phone: phone, email: email,
                       company: "上海星河科技有限公司", address: "上海市浦东新区世纪大道100号")
    }

    @Test(.timeLimit(.minutes(3)))
    func aBatchOvertakenByTheSamePersonPlansAgainAndMerges() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        // The same person, one copy with a phone and one with an email: no exact key in common.
        let stats = try await Self.race(env, [Self.person("a", name: "张伟", phone: "+8613812345671")],
                                        [Self.person("b", name: "张伟", email: "zhangwei@example.cn")])
        #expect(try env.count("select count(distinct lead_id)::int8 as n from inbound_ledger") == 1)
        #expect(try env.count("select count(*)::int8 as n from leads") == 1)
        // The second to commit saw the first's lead in the log and planned again.
        #expect(stats.filter(\.replanned).count == 1)
        #expect(stats.map(\.committedMeanwhile).sorted() == [0, 1])
    }

    @Test(.timeLimit(.minutes(3)))
    func aBatchOvertakenBySomeoneElseKeepsItsPlan() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let stats = try await Self.race(env, [Self.person("a", name: "张伟", phone: "+8613812345671")],
                                        [Self.person("b", name: "欧阳娜娜", email: "nana@example.cn")])
        #expect(try env.count("select count(*)::int8 as n from leads") == 2)
        #expect(stats.map(\.committedMeanwhile).sorted() == [0, 1])
        #expect(stats.allSatisfy { !$0.replanned })
    }

    @Test(.timeLimit(.minutes(3)))
    func aManualMergeMeanwhileMakesABatchPlanAgain() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let store = LeadStore(connection: db)
        let first = try store.ingest([Self.person("x1", name: "李娜", phone: "+8613900001111")])
        let second = try store.ingest([Self.person("x2", name: "王强", phone: "+8613900002222")])
        let (x, y) = (first.decisions[0].leadID!, second.decisions[0].leadID!)
        // A batch for 李娜 and a manual merge of her lead race; the merge changes a lead the batch read.
        let (stats, _) = try await Self.race(
            env, { try LeadStore(connection: $0).resolve([Self.person("x3", name: "李娜", phone: "+8613900001111")]).commit },
            { try LeadMerge(db: $0).merge(winner: y, loser: x, actor: "test") })
        // Whichever went first, the new message ends on the lead that now holds 李娜's phone.
        let lead: UUID = try db.query("select lead_id from inbound_ledger where message_id = 'x3'").first!.decode("lead_id")
        #expect(lead == y)
        #expect(stats.committedMeanwhile == 0 || stats.replanned)
    }
}
