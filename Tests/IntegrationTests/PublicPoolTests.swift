import Foundation
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

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run public-pool integration tests"))
struct PublicPoolIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func returnAddClaimAndRecycleByRule() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let leads = try SalesIntegrationTests.seedLeads(6, db: db)
        let pool = LeadPool(db: db), customers = CustomerPool(db: db)
        for rep in ["li", "han", "wang"] { try pool.upsertRep(id: rep, name: nil, team: nil, active: true, capacity: 50) }
        let claimed = try pool.claim(rep: "li", count: 6, actor: "t").leads
        let ids = try claimed.map { try customers.convert(lead: $0, actor: "t") }
        #expect(try customers.convert(lead: claimed[0], actor: "t") == ids[0])  // converting again: the same customer
        #expect(try env.count("select count(*)::int8 as n from customers where owner = 'li'") == 6)
        #expect(Set(leads) == Set(claimed))

        // Return with a reason, and add directly; li may not take back what li returned.
        #expect(try customers.giveBack([ids[0]], rep: "li", reason: "不需要了", actor: "t") == 1)
        #expect(throws: SalesError.self) { try customers.giveBack([ids[0]], rep: "li", reason: "x", actor: "t") }
        #expect(try customers.add([ids[1]], reason: "duplicate account", actor: "admin") == 1)
        #expect(try customers.claim(rep: "li", count: 5, actor: "t").leads == [ids[1]])
        // A pool with members is theirs alone.
        try db.query("insert into public_pools (id, name) values ('vip', 'VIP 公海')")
        try db.query("insert into public_pool_members (pool_id, rep_id) values ('vip', 'han')")
        #expect(try customers.add([ids[2]], pool: "vip", reason: nil, actor: "admin") == 1)
        #expect(throws: SalesError.self) { try customers.claim(rep: "wang", count: 1, pool: "vip", actor: "t") }
        #expect(try customers.claim(rep: "han", count: 1, pool: "vip", actor: "t").leads == [ids[2]])
        #expect(try customers.claim(rep: "wang", count: 3, actor: "t").leads == [ids[0]])

        // Recycling: no follow-up for 30 days, warned 3 days before; level A customers go to vip after 10.
        try db.query("update customers set owned_since = now() - interval '1 day', level = 'C'")
        try db.query("update customers set level = 'A' where id = $1", [ids[5]])
        try db.query("insert into recycle_rules (pool_id, level, no_followup_days, warn_days) values ('public', null, 30, 3), ('vip', 'A', 10, 2)")
        let now = Date()
        #expect(try customers.recycle(now: now).recycled == 0)
        let warned = try customers.recycle(now: now + 27 * 86_400)
        // Owners now: li 4 (one of level A), wang 1, han 1. The A customer is past its 10 days; the
        // other five are warned.
        #expect(warned.recycled == 1 && warned.warned == 5)
        #expect(try customers.recycle(now: now + 27.5 * 86_400).warned == 0)  // warned once
        // li follows up on one customer: it stays; the others go.
        let kept = try db.query("select id from customers where owner = 'li' and id <> $1 order by id limit 1", [ids[5]]).first!.decode("id", as: UUID.self)
        _ = try FollowUps(db: db).record(.customer(kept), rep: "li", kind: .call, happenedAt: now + 27 * 86_400, outcome: "还有意向",
                                         nextStep: nil, plan: nil, nextDueAt: nil, actor: "t")
        let r = try customers.recycle(now: now + 29.5 * 86_400)
        #expect(r.recycled == 4)
        #expect(try env.count("select count(*)::int8 as n from customers where owner is not null") == 1)
        #expect(try env.count("select count(*)::int8 as n from customers where id = $1 and owner = 'li'", [kept]) == 1)
        #expect(try env.count("select count(*)::int8 as n from customers where id = $1 and public_pool_id = 'vip'", [ids[5]]) == 1)
        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key = 'customer.recycle_warning'") == 5)
        #expect(try env.count("select count(*)::int8 as n from customer_ownership where action = 'recycle' and rep_id = 'li'") == 3)

        // The 360° view of a recycled customer: its lead, the lead's claim, the conversion, the pool moves.
        let recycledID = [ids[3], ids[4]].first { $0 != kept }!
        let view = try #require(try CustomerView.show(recycledID, db: db)?.objectValue)
        #expect(view["customer"]?.objectValue?["public_pool_id"] == .string("public"))
        guard case .array(let viewLeads)? = view["leads"], case .array(let moves)? = view["ownership"],
              case .array(let leadMoves)? = view["lead_ownership"] else { Issue.record("view shape"); return }
        #expect(viewLeads.count == 1)
        #expect(leadMoves.compactMap { $0.objectValue?["action"] } == [.string("claim")])
        #expect(moves.compactMap { $0.objectValue?["action"] } == [.string("recycle")])
        let keptView = try #require(try CustomerView.show(kept, db: db)?.objectValue)
        guard case .array(let records)? = keptView["followup_records"] else { Issue.record("no records"); return }
        #expect(records.count == 1)
        #expect(try CustomerView.show(UUID(), db: db) == nil)
    }
}
