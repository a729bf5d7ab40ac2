import Foundation
import RapportAMQP
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

/// The lead pool on the real database and broker: claim rules, the re-claim bar, assignment, the
/// concurrency case and the command messages.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run sales integration tests"))
struct SalesIntegrationTests {
    /// A test database with `n` pool leads and one active rep, `li`.
    static func withRepAndLeads(_ n: Int, _ body: (TestEnvironment, PGConnection, [UUID]) async throws -> Void) async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let leads = try Self.seedLeads(n, db: db)
        try LeadPool(db: db).upsertRep(id: "li", name: nil, team: nil, active: true, capacity: 10)
        try await body(env, db, leads)
    }

    /// `n` pool leads written straight to the table (ingest is tested elsewhere), oldest first.
    static func seedLeads(_ n: Int, db: PGConnection, test: Int = 0) throws -> [UUID] {
        let ids = (0..<n).map { _ in UUID() }
        try db.query(
            """
            insert into leads (id, name, source, channel, first_seen_at, last_seen_at, fields)
            select id, 'lead ' || n, 'test', 'webform', now() - make_interval(secs => $2 - n), now(),
                   case when n <= $3 then '{"_is_test": true}'::jsonb else '{}'::jsonb end
            from unnest($1::uuid[]) with ordinality as x(id, n)
            """, [ids.map { $0.uuidString.lowercased() }, n, test])
        return ids
    }

    @Test(.timeLimit(.minutes(2)))
    func claimObeysEveryRuleAndTheReclaimBar() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        try db.query("update lead_pools set max_per_claim = 5, max_per_day = 8, max_held = 6, reclaim_bar_days = 7 where id = 'default'")
        let leads = try Self.seedLeads(30, db: db, test: 2)
        let pool = LeadPool(db: db)
        try pool.upsertRep(id: "li", name: "李雷", team: nil, active: true, capacity: 100)

        let first = try pool.claim(rep: "li", count: 10, actor: "test")
        #expect(first.leads == Array(leads[2..<7]))  // oldest first, test leads skipped
        #expect(first.limitedBy == "max_per_claim")
        let second = try pool.claim(rep: "li", count: 5, actor: "test")
        #expect(second.leads.count == 1 && second.limitedBy == "max_held")  // holds 6 now
        #expect(throws: SalesError(.limitReached, "")) {
            do { _ = try pool.claim(rep: "li", count: 1, actor: "test") } catch let e as SalesError { throw SalesError(e.code, "") }
        }

        // Returning needs ownership and a reason; returned leads cannot be re-claimed by the same rep.
        #expect(throws: SalesError.self) { try pool.giveBack([leads[20]], rep: "li", reason: "no", actor: "test") }
        #expect(try pool.giveBack(Array(first.leads.prefix(4)), rep: "li", reason: "wrong number", actor: "test") == 4)
        let third = try pool.claim(rep: "li", count: 5, actor: "test")
        #expect(third.leads.count == 2 && third.limitedBy == "max_per_day")  // 6 claimed today of 8
        #expect(Set(third.leads).isDisjoint(with: first.leads.prefix(4)))
        // Another rep may take what li returned.
        try pool.upsertRep(id: "han", name: "韩梅梅", team: nil, active: true, capacity: 100)
        #expect(try pool.claim(rep: "han", count: 4, actor: "test").leads == Array(first.leads.prefix(4)))
        // An inactive rep claims nothing.
        try pool.upsertRep(id: "han", name: nil, team: nil, active: false, capacity: nil)
        #expect(throws: SalesError.self) { try pool.claim(rep: "han", count: 1, actor: "test") }

        #expect(try env.count("select count(*)::int8 as n from lead_ownership where action = 'return' and reason = 'wrong number'") == 4)
        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key = 'lead.claimed'") == 4)
        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key = 'lead.returned'") == 1)
    }

    @Test(.timeLimit(.minutes(2)))
    func assignmentSkipsInactiveRepsAndRespectsCapacity() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let leads = try Self.seedLeads(12, db: db)
        let pool = LeadPool(db: db)
        try pool.upsertTeam(id: "east", name: "华东", assignment: .roundRobin)
        for (rep, active, cap) in [("a", true, 10), ("b", false, 10), ("c", true, 2), ("d", true, 10)] {
            try pool.upsertRep(id: rep, name: rep, team: "east", active: active, capacity: cap)
        }
        let one = try pool.assign(team: "east", count: 5, actor: "test")
        #expect(one.map(\.rep) == ["a", "c", "d", "a", "c"])
        #expect(one.map(\.lead) == Array(leads[0..<5]))
        // The turn carries over between calls; c is full.
        #expect(try pool.assign(team: "east", count: 3, actor: "test").map(\.rep) == ["d", "a", "d"])
        try pool.upsertTeam(id: "east", name: "华东", assignment: .leastLoaded)
        // a holds 3, d holds 3, c is full: a then d then a.
        #expect(try pool.assign(team: "east", leads: Array(leads[8..<11]), actor: "test").map(\.rep) == ["a", "d", "a"])
        #expect(try env.count("select count(*)::int8 as n from leads where owner = 'b'") == 0)
        #expect(try env.count("select count(*)::int8 as n from leads where owner = 'c'") == 2)
    }

    @Test(.timeLimit(.minutes(2)))
    func anAutoAssigningPoolHandsNewLeadsToItsTeam() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        let db = try env.db()
        defer { db.close() }
        let pool = LeadPool(db: db)
        try pool.upsertTeam(id: "inbound", name: "Inbound", assignment: .roundRobin)
        try pool.upsertRep(id: "a", name: nil, team: "inbound", active: true, capacity: 10)
        try pool.upsertRep(id: "gone", name: nil, team: "inbound", active: false, capacity: 10)
        try pool.upsertRep(id: "b", name: nil, team: "inbound", active: true, capacity: 10)
        try db.query("update lead_pools set auto_assign_team = 'inbound' where id = 'default'")
        try env.publish((0..<4).map { DemoData.webForm($0, run: "aa", messageID: "aa-\($0)") })
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from leads") == 4 }
        #expect(try pool.autoAssign() == 4)
        #expect(try env.count("select count(*)::int8 as n from leads where owner = 'a'") == 2)
        #expect(try env.count("select count(*)::int8 as n from leads where owner = 'b'") == 2)
        #expect(try pool.autoAssign() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func twentyConcurrentClaimersNeverShareALead() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        try db.query("update lead_pools set max_per_claim = 7, max_per_day = 5000, max_held = 5000 where id = 'default'")
        let leads = try Self.seedLeads(1000, db: db)
        for r in 0..<20 { try LeadPool(db: db).upsertRep(id: "rep\(r)", name: nil, team: nil, active: true, capacity: 5000) }
        let url = env.settings.postgresURL
        // Twenty threads, each with its own connection, claiming until the pool is empty, all released at once.
        let results = Mutex([[UUID]](repeating: [], count: 20))
        let failures = Mutex([String]())
        let start = DispatchSemaphore(value: 0), done = DispatchGroup()
        for r in 0..<20 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                do {
                    let conn = try PGConnection(url)
                    defer { conn.close() }
                    start.wait()
                    while true {
                        let got = try LeadPool(db: conn).claim(rep: "rep\(r)", count: 7, actor: "test").leads
                        if got.isEmpty { return }
                        results.withLock { $0[r] += got }
                    }
                } catch {
                    failures.withLock { $0.append("rep\(r): \(error)") }
                }
            }
        }
        for _ in 0..<20 { start.signal() }
        done.wait()
        #expect(failures.withLock { $0 } == [])
        let claimed = results.withLock { $0 }
        let flat = claimed.flatMap { $0 }
        #expect(flat.count == leads.count)
        #expect(Set(flat) == Set(leads))
        #expect(try env.count("select count(*)::int8 as n from lead_ownership where action = 'claim'") == leads.count)
        #expect(claimed.filter { !$0.isEmpty }.count > 1)
    }

    @Test(.timeLimit(.minutes(2)))
    func commandsAnswerOnReplyToOncePerMessageID() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers(commands: true)
        defer { workers.stop() }
        let db = try env.db()
        defer { db.close() }
        _ = try Self.seedLeads(4, db: db)
        let conn = try env.amqp(name: "sales-front-end")
        defer { conn.close() }
        let replyQueue = "test.replies"
        try conn.declareQueue(replyQueue, durable: false, exclusive: true, autoDelete: true)
        let tag = try conn.consume(queue: replyQueue)
        defer { try? conn.cancel(consumerTag: tag) }
        func call(_ key: String, id: String, _ body: String) throws -> JSONValue {
            var p = AMQPProperties(contentType: "application/json", messageID: id, appID: "crm-ui")
            p.userID = conn.configuration.username
            p.replyTo = replyQueue
            p.correlationID = "corr-" + id
            try conn.publish(exchange: "rapport.commands", routingKey: key, body: Array(body.utf8), properties: p)
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let d = try conn.nextDelivery(timeout: .milliseconds(200)) {
                    #expect(d.properties.correlationID == "corr-" + id)
                    return try JSONValue.parse(d.body)
                }
            }
            throw TestFailure("no reply to \(id)")
        }
        #expect(try call("rep.upsert", id: "s1", #"{"rep_id": "li", "name": "李雷", "capacity": 3}"#).objectValue?["ok"] == .bool(true))
        let claim = try call("lead.claim", id: "s2", #"{"rep_id": "li", "count": 5}"#)
        let result = claim.objectValue?["result"]?.objectValue
        #expect(result?["count"] == .number(3))
        #expect(result?["limited_by"] == .string("capacity"))
        // The same message again: the same answer, nothing claimed twice.
        #expect(try call("lead.claim", id: "s2", #"{"rep_id": "li", "count": 5}"#) == claim)
        #expect(try env.count("select count(*)::int8 as n from lead_ownership") == 3)
        // A refusal by the rules is a typed error reply, not a dead letter.
        let refused = try call("lead.claim", id: "s3", #"{"rep_id": "li", "count": 1}"#).objectValue
        #expect(refused?["ok"] == .bool(false))
        #expect(refused?["error"]?.objectValue?["code"] == .string("limit_reached"))
        // A malformed command is both: an error reply naming the field, and a dead letter.
        let bad = try call("lead.claim", id: "s4", #"{"rep_id": "li", "count": "many"}"#).objectValue
        #expect(bad?["error"]?.objectValue?["field"] == .string("count"))
        // One the database refuses (capacity beyond its integer column) is answered and dead-lettered at
        // once, not redelivered until the broker gives up.
        let tooBig = try call("rep.upsert", id: "s5", #"{"rep_id": "han", "capacity": 9000000000000}"#).objectValue
        #expect(tooBig?["error"]?.objectValue?["code"] == .string("storage_rejected"))
        #expect(try call("rep.upsert", id: "s6", #"{"rep_id": "han"}"#).objectValue?["ok"] == .bool(true))  // and the consumer goes on
        try await env.waitUntil("dead letters archived") { try env.count("select count(*)::int8 as n from dead_letters") == 2 }
        #expect(try env.count("select count(*)::int8 as n from dead_letters where message_id = 's4' and error_code = 'invalid_field'") == 1)
        #expect(try env.count("select count(*)::int8 as n from dead_letters where message_id = 's5' and error_code = 'storage_rejected' and attempts <= 1") == 1)
    }
}

/// 撞单: a lead that matches one a rep owns goes to that rep, never to the pool for a second rep.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run sales integration tests"))
struct OwnerWarningIntegrationTests {
    static func form(_ id: String, _ fields: String) -> InboundMessage {
        InboundMessage(routingKey: "inbound.webform.site", body: Array(#"{"message": "报价", \#(fields)}"#.utf8),
                       properties: AMQPProperties(contentType: "application/json", messageID: id, appID: "site"))
    }

    @Test(.timeLimit(.minutes(2)))
    func duplicatesOfAnOwnedLeadGoToItsOwnerWithAWarning() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish([Self.form("o-1", #""name": "张伟", "phone": "13812345678", "email": "zw@huaxin.cn", "company": "北京华信科技有限公司""#)])
        try await env.waitUntil("first lead") { try env.count("select count(*)::int8 as n from inbound_ledger") == 1 }
        let db = try env.db()
        defer { db.close() }
        let pool = LeadPool(db: db)
        try pool.upsertRep(id: "li", name: "李雷", team: nil, active: true, capacity: 10)
        try pool.upsertRep(id: "han", name: "韩梅梅", team: nil, active: true, capacity: 10)
        let owned = try pool.claim(rep: "li", count: 1, actor: "test").leads
        #expect(owned.count == 1)

        // Same name and company, another phone: not sure enough to merge, so a new lead for review,
        // held for li instead of going to the pool; and the same phone again merges.
        try env.publish([Self.form("o-2", #""name": "张伟", "phone": "13900001111", "company": "北京华信科技有限公司""#),
                         Self.form("o-3", #""name": "张伟", "phone": "+86 138-1234-5678""#)])
        try await env.waitUntil("both") { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        let second: UUID = try db.query("select lead_id from inbound_ledger where message_id = 'o-2'").first!.decode("lead_id")
        #expect(second != owned[0])
        #expect(try env.count("select count(*)::int8 as n from leads where id = $1 and owner = 'li'", [second]) == 1)
        #expect(try env.count("select count(*)::int8 as n from duplicate_candidates where lead_id = $1", [second]) == 1)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where message_id = 'o-3' and lead_id = $1", [owned[0]]) == 1)
        // Nothing is left in the pool for han.
        #expect(try pool.claim(rep: "han", count: 5, actor: "test").leads.isEmpty)
        let warnings = try db.query(
            """
            select payload->>'owner' as owner, payload->>'held_for_owner' as held, payload->>'matched_lead_id' as matched
            from outbox where routing_key = 'customer.duplicate_detected' order by id
            """)
        #expect(warnings.map { $0["owner"] } == ["li", "li"])
        #expect(warnings.map { $0["held"] } == ["true", "false"])
        #expect(warnings.allSatisfy { $0["matched"] == owned[0].uuidString.lowercased() })
    }
}
