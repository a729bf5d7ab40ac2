import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Customers and the public pool (公海): converting a lead, returning and adding customers to a pool,
/// claiming from it under its rules, and recycling by rule.
public struct CustomerPool: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// Makes a lead a customer (its owner keeps it), carrying its identities; a lead converted before
    /// returns the same customer.
    @discardableResult
    public func convert(lead: UUID, level: String = "C", actor: String) throws -> UUID {
        try self.db.transaction {
            let l = lead.uuidString.lowercased()
            guard let row = try self.db.query(
                "select customer_id, merged_into from leads where id = $1::uuid for update", [l]).first else {
                throw SalesError(.notFound, "no lead \(l)")
            }
            if let merged = row["merged_into"] { throw SalesError(.invalid, "lead \(l) was merged into \(merged)") }
            if let existing: UUID = try row.decodeIfPresent("customer_id") { return existing }
            let id = UUID()
            let c = id.uuidString.lowercased()
            try self.db.query(
                """
                insert into customers (id, name, phone, email, company, owner, owned_since, level, last_followup_at)
                select $2::uuid, name, phone, email, company, owner, case when owner is not null then now() end, $3, last_followup_at
                from leads where id = $1::uuid
                """, [l, c, level])
            try self.db.query(
                "insert into customer_identities (key, customer_id) select key, $2::uuid from lead_identities where lead_id = $1::uuid on conflict do nothing",
                [l, c])
            try self.db.query("update leads set customer_id = $2::uuid, status = 'converted', updated_at = now() where id = $1::uuid", [l, c])
            // Its search tokens, phones and emails, as an added customer has them.
            try Customers(db: self.db).reindex(id)
            try LeadPool(db: self.db).event("lead.converted", id: "lead.converted:\(l)", [
                "lead_id": .string(l), "customer_id": .string(c), "actor": .string(actor)])
            return id
        }
    }

    /// A rep gives customers back to a public pool, with a reason.
    @discardableResult
    public func giveBack(_ customers: [UUID], rep: String, reason: String, pool: String = "public", actor: String) throws -> Int {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw SalesError(.invalid, "a return needs a reason") }
        return try self.db.transaction {
            try self.requirePool(pool)
            let ids = Array(Set(customers.map { $0.uuidString.lowercased() }))
            let owned = try self.db.query("select id from customers where id = any($1::uuid[]) and owner = $2 and deleted_at is null order by id for update", [ids, rep])
            guard owned.count == ids.count else { throw SalesError(.notOwner, "\(rep) owns \(owned.count) of the \(ids.count) customers to return") }
            try self.toPool(ids, pool: pool, action: "return", rep: rep, actor: actor, reason: reason)
            return ids.count
        }
    }

    /// Puts customers straight into a pool (an admin, or a customer nobody should own).
    @discardableResult
    public func add(_ customers: [UUID], pool: String = "public", reason: String?, actor: String) throws -> Int {
        try self.db.transaction {
            try self.requirePool(pool)
            let ids = Array(Set(customers.map { $0.uuidString.lowercased() }))
            let found = try self.db.query("select id, owner from customers where id = any($1::uuid[]) and deleted_at is null order by id for update", [ids])
            guard found.count == ids.count else { throw SalesError(.notFound, "\(ids.count - found.count) of the customers do not exist") }
            try self.toPool(ids, pool: pool, action: "add", rep: nil, actor: actor, reason: reason)
            return ids.count
        }
    }

    /// Takes up to `count` of a pool's customers for `rep` (a member of the pool, or any rep when the pool
    /// has no members), oldest in the pool first, under the pool's rules.
    public func claim(rep: String, count: Int, pool: String = "public", actor: String, now: Date = Date()) throws -> LeadPool.ClaimResult {
        guard count > 0 else { throw SalesError(.invalid, "count must be at least 1") }
        return try self.db.transaction {
            guard let r = try self.db.query("select active, capacity from reps where id = $1 for update", [rep]).first else {
                throw SalesError(.notFound, "no rep \(rep)")
            }
            guard r["active"] == "t" else { throw SalesError(.inactiveRep, "\(rep) is not active") }
            guard let p = try self.db.query(
                """
                select max_per_claim, max_per_day, max_held, reclaim_bar_days,
                       exists (select 1 from public_pool_members m where m.pool_id = p.id) as has_members,
                       exists (select 1 from public_pool_members m where m.pool_id = p.id and m.rep_id = $2) as is_member
                from public_pools p where id = $1
                """, [pool, rep]).first else { throw SalesError(.notFound, "no public pool \(pool)") }
            if p["has_members"] == "t" && p["is_member"] != "t" { throw SalesError(.notMember, "\(rep) may not claim from \(pool)") }
            let rules = PoolRules(maxPerClaim: try p.decode("max_per_claim"), maxPerDay: try p.decode("max_per_day"),
                                  maxHeld: try p.decode("max_held"), reclaimBarDays: try p.decode("reclaim_bar_days"))
            let held: Int = try self.db.query("select count(*)::int8 as n from customers where owner = $1 and deleted_at is null", [rep]).first!.decode("n")
            let today: Int = try self.db.query(
                "select count(*)::int8 as n from customer_ownership where rep_id = $1 and action = 'claim' and at >= date_trunc('day', $2::timestamptz)",
                [rep, ISO8601.string(now)]).first!.decode("n")
            let allowance = rules.allowance(requested: count, held: held, claimedToday: today, capacity: try r.decode("capacity"))
            guard allowance.count > 0 else {
                throw SalesError(.limitReached, "\(rep) may claim no more now (\(allowance.limitedBy ?? "limit")): holds \(held), claimed \(today) today")
            }
            // A rep who gave a customer up (returned, or lost it to recycling) may not take it straight back.
            let ids: [UUID] = try self.db.query(
                """
                select id from customers c
                where public_pool_id = $1 and deleted_at is null
                  and not exists (select 1 from customer_ownership o where o.customer_id = c.id and o.rep_id = $2
                                  and o.action in ('return', 'recycle') and o.at > $4::timestamptz - make_interval(days => $5))
                order by updated_at, id limit $3 for update skip locked
                """, [pool, rep, allowance.count, ISO8601.string(now), rules.reclaimBarDays]).map { try $0.decode("id") }
            if !ids.isEmpty {
                let texts = ids.map { $0.uuidString.lowercased() }
                try self.db.query(
                    """
                    update customers set owner = $2, owned_since = $3::timestamptz, public_pool_id = null, recycle_warned_at = null,
                           updated_at = now() where id = any($1::uuid[])
                    """, [texts, rep, ISO8601.string(now)])
                try self.history(texts, rep: rep, action: "claim", pool: pool, actor: actor, reason: nil, at: now)
                try LeadPool(db: self.db).event("customer.claimed", id: "customer.claimed:\(UUID().uuidString.lowercased())", [
                    "rep_id": .string(rep), "pool_id": .string(pool), "customer_ids": .array(texts.map { .string($0) })])
            }
            return LeadPool.ClaimResult(leads: ids, limitedBy: ids.count < count ? (allowance.limitedBy ?? "pool_empty") : nil)
        }
    }

    /// Applies the active recycle rules at `now`: moves what is due to its pool and warns owners of what
    /// is about to be (once per due date). Returns the counts.
    @discardableResult
    public func recycle(now: Date, actor: String = "recycler", batch: Int = 1000) throws -> (recycled: Int, warned: Int) {
        let rules = try self.db.query(
            "select id, pool_id, level, no_followup_days, no_deal_days, exclude_with_deal, exclude_open_opportunity, warn_days from recycle_rules where active").map {
                RecycleRule(id: try $0.decode("id"), pool: try $0.decode("pool_id"), level: $0["level"],
                            noFollowUpDays: try $0.decodeIfPresent("no_followup_days"), noDealDays: try $0.decodeIfPresent("no_deal_days"),
                            excludeWithDeal: $0["exclude_with_deal"] == "t", excludeOpenOpportunity: $0["exclude_open_opportunity"] == "t",
                            warnDays: try $0.decode("warn_days"))
            }
        guard !rules.isEmpty else { return (0, 0) }
        // Only customers some rule could touch by now (or warn about): the smallest period minus its warning.
        let horizon = rules.flatMap { r in [r.noFollowUpDays, r.noDealDays].compactMap { $0 }.map { $0 - r.warnDays } }.min() ?? 0
        var recycled = 0, warned = 0
        var after = "00000000-0000-0000-0000-000000000000"
        while true {
            let (r, w, last) = try self.db.transaction { () -> (Int, Int, String?) in
                let rows = try self.db.query(
                    """
                    select id::text as id, owner, level, coalesce(owned_since, created_at) as owned_since, last_followup_at, last_deal_at, recycle_warned_at,
                           exists (select 1 from opportunities o where o.customer_id = customers.id and o.status = 'open') as open_opportunity
                    from customers
                    where owner is not null and deleted_at is null and id > $1::uuid
                      and coalesce(owned_since, created_at) < $2::timestamptz - make_interval(days => $3)
                    order by id limit $4 for update skip locked
                    """, [after, ISO8601.string(now), horizon, batch])
                var r = 0, w = 0
                for row in rows {
                    let id: String = try row.decode("id"), owner: String = try row.decode("owner")
                    let clock = CustomerClock(level: row["level"] ?? "C", ownedSince: try row.decode("owned_since"),
                                              lastFollowUp: try row.decodeIfPresent("last_followup_at"),
                                              lastDeal: try row.decodeIfPresent("last_deal_at"), warnedAt: try row.decodeIfPresent("recycle_warned_at"),
                                              hasOpenOpportunity: row["open_opportunity"] == "t")
                    switch Recycling.verdict(clock, rules: rules, now: now) {
                    case .keep: continue
                    case .recycle(let rule, let pool, let reason):
                        try self.toPool([id], pool: pool, action: "recycle", rep: owner, actor: actor, reason: "rule \(rule): \(reason)", at: now)
                        r += 1
                    case .warn(let rule, let pool, let at, let reason):
                        try self.db.query("update customers set recycle_warned_at = $2::timestamptz where id = $1::uuid", [id, ISO8601.string(now)])
                        try LeadPool(db: self.db).event("customer.recycle_warning", id: "customer.recycle_warning:\(id):\(ISO8601.string(at))", [
                            "customer_id": .string(id), "rep_id": .string(owner), "pool_id": .string(pool), "rule_id": .number(Double(rule)),
                            "recycle_at": .string(ISO8601.string(at)), "reason": .string(reason)])
                        w += 1
                    }
                }
                return (r, w, rows.count < batch ? nil : rows.last?["id"])
            }
            recycled += r
            warned += w
            guard let last else { break }
            after = last
        }
        return (recycled, warned)
    }

    private func requirePool(_ pool: String) throws {
        if try self.db.query("select 1 from public_pools where id = $1", [pool]).isEmpty { throw SalesError(.notFound, "no public pool \(pool)") }
    }

    private func toPool(_ ids: [String], pool: String, action: String, rep: String?, actor: String, reason: String?, at: Date = Date()) throws {
        try self.db.query(
            """
            update customers set owner = null, owned_since = null, public_pool_id = $2, recycle_warned_at = null, updated_at = $3::timestamptz
            where id = any($1::uuid[])
            """, [ids, pool, ISO8601.string(at)])
        try self.history(ids, rep: rep, action: action, pool: pool, actor: actor, reason: reason, at: at)
        let kind = action == "recycle" ? "customer.recycled" : action == "return" ? "customer.returned" : "customer.added_to_pool"
        try LeadPool(db: self.db).event(kind, id: "\(kind):\(UUID().uuidString.lowercased())", [
            "customer_ids": .array(ids.map { .string($0) }), "pool_id": .string(pool), "rep_id": rep.map { .string($0) } ?? .null,
            "reason": reason.map { .string($0) } ?? .null, "actor": .string(actor)])
    }

    private func history(_ ids: [String], rep: String?, action: String, pool: String, actor: String, reason: String?, at: Date) throws {
        try self.db.query(
            """
            insert into customer_ownership (customer_id, rep_id, action, pool_id, actor, reason, at)
            select c, $2, $3, $4, $5, $6, $7::timestamptz from unnest($1::uuid[]) as c
            """, [ids, rep, action, pool, actor, reason, ISO8601.string(at)])
        try AuditLog(db: self.db).append(actor: actor, action: "customer.\(action)", targets: ids + (rep.map { ["rep:\($0)"] } ?? []),
                                         detail: "pool \(pool)", now: at)
    }
}
