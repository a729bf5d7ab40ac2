import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import Synchronization
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let now: Mutex<Date>
    init(_ start: Date) { self.now = Mutex(start) }
    func read() -> Date { self.now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { self.now.withLock { $0 += seconds } }
}

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run follow-up integration tests"))
struct FollowUpIntegrationTests {
    static func reminders(_ env: TestEnvironment) throws -> [(plan: Int, late: String)] {
        let db = try env.db()
        defer { db.close() }
        return try db.query(
            "select (payload->>'plan_id')::int8 as plan, payload->>'late' as late from outbox where routing_key = 'followup.due' order by 1")
            .map { (try $0.decode("plan"), $0["late"] ?? "") }
    }

    @Test(.timeLimit(.minutes(2)))
    func remindersFireWhenDueOnceAndLateOnesAreMarked() async throws {
        try await SalesIntegrationTests.withRepAndLeads(1) { env, db, leads in
            let lead = leads[0]
            let t0 = Date(timeIntervalSince1970: 1_900_000_000)
            let f = FollowUps(db: db)
            let missed = try f.plan(.lead(lead), rep: "li", kind: .call, dueAt: t0 - 3600, note: "while we were down", actor: "t")
            let soon = try f.plan(.lead(lead), rep: "li", kind: .visit, dueAt: t0 + 10, note: nil, actor: "t")
            let later = try f.plan(.lead(lead), rep: "li", kind: .message, dueAt: t0 + 20, note: nil, actor: "t")

            let clock = TestClock(t0)
            let scheduler = FollowUpScheduler(configuration: .init(lateAfter: 60), clock: { clock.read() })
            #expect(try scheduler.fireDue(db) == 1)
            #expect(try Self.reminders(env).map(\.plan) == [Int(missed)])
            #expect(try Self.reminders(env).first?.late == "true")
            clock.advance(9.9)
            #expect(try scheduler.fireDue(db) == 0)
            clock.advance(0.2)
            #expect(try scheduler.fireDue(db) == 1)
            // A second scheduler (or this one restarted) finds nothing left to send.
            let other = FollowUpScheduler(clock: { clock.read() })
            #expect(try other.fireDue(db) == 0)
            clock.advance(30)
            #expect(try other.fireDue(db) == 1)
            #expect(try Self.reminders(env).map(\.plan) == [Int(missed), Int(soon), Int(later)])
            #expect(try Self.reminders(env).map(\.late) == ["true", "false", "false"])

            // Overdue: reminded but not done, by rep.
            #expect(try f.overdue(rep: "li", now: clock.read()).map(\.plan) == [missed, soon, later])
            let r = try f.record(.lead(lead), rep: "li", kind: .call, happenedAt: clock.read(), outcome: "接通，约下周拜访",
                                 nextStep: "拜访", plan: missed, nextDueAt: clock.read() + 7 * 86400, actor: "t")
            #expect(r.nextPlan != nil)
            #expect(try f.overdue(rep: "li", now: clock.read()).map(\.plan) == [soon, later])
            #expect(try env.count("select count(*)::int8 as n from leads where id = $1 and last_followup_at is not null", [lead]) == 1)
            // A record for a plan that is already done changes nothing, and no event is left behind.
            let events = try env.count("select count(*)::int8 as n from outbox")
            #expect(throws: SalesError.self) {
                try f.record(.lead(lead), rep: "li", kind: .call, happenedAt: clock.read(), outcome: "again", nextStep: nil,
                             plan: missed, nextDueAt: nil, actor: "t")
            }
            #expect(try env.count("select count(*)::int8 as n from outbox") == events)
            #expect(try env.count("select count(*)::int8 as n from followup_records") == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func twoSchedulersRemindEachPlanExactlyOnce() async throws {
        try await SalesIntegrationTests.withRepAndLeads(1) { env, db, leads in
            let lead = leads[0]
            // 2,000 plans due over the next two seconds of real time.
            let start = Date()
            try db.query(
                """
                insert into followup_plans (lead_id, rep_id, kind, due_at)
                select $1::uuid, 'li', 'call', $2::timestamptz + make_interval(secs => g / 1000.0) from generate_series(1, 2000) g
                """, [lead.uuidString.lowercased(), ISO8601.string(start)])
            let registry = try env.registry()
            let a = registry.periodic("scheduler", FollowUpScheduler(configuration: .init(batchSize: 100)))
            let b = registry.periodic("scheduler", FollowUpScheduler(configuration: .init(batchSize: 100)))
            let stopA = StopSignal(), stopB = StopSignal()
            let group = DispatchGroup()
            for (s, stop) in [(a, stopA), (b, stopB)] {
                group.enter()
                Thread.detachNewThread { s.run(index: 0, stop: stop); group.leave() }
            }
            // Stop one halfway and start it again: a restart.
            try await Task.sleep(for: .seconds(1))
            stopA.set()
            let c = registry.periodic("scheduler", FollowUpScheduler(configuration: .init(batchSize: 100)))
            let stopC = StopSignal()
            group.enter()
            Thread.detachNewThread { c.run(index: 0, stop: stopC); group.leave() }
            try await env.waitUntil("all reminded") {
                try env.count("select count(*)::int8 as n from followup_plans where reminded_at is null") == 0
            }
            stopB.set(); stopC.set()
            group.wait()
            #expect(try env.count("select count(*)::int8 as n from outbox where routing_key = 'followup.due'") == 2000)
            #expect(try env.count("select count(distinct message_id)::int8 as n from outbox where routing_key = 'followup.due'") == 2000)
            // None was reminded early, and none counts as late (how late is bench/scheduler's to measure).
            #expect(try env.count("select count(*)::int8 as n from followup_plans where reminded_at < due_at or reminder_late") == 0)
        }
    }
}
