import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Reps, teams and the lead pool: claim, return and assign, each in one transaction with its history
/// rows and its events (through the outbox, so an event exists exactly when the change committed).
///
/// Concurrency: a claim locks its rep's row (so one rep's limits are counted one claim at a time) and
/// takes leads with `for update skip locked` (so two reps claiming at once never get the same lead and
/// never wait for each other's leads).
public struct LeadPool: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    // MARK: Reps and teams

    public func upsertTeam(id: String, name: String, assignment: AssignmentPolicy) throws {
        try self.db.transaction {
            try self.db.query(
                """
                insert into teams (id, name, assignment) values ($1, $2, $3)
                on conflict (id) do update set name = excluded.name, assignment = excluded.assignment
                """, [id, name, assignment.rawValue])
            try self.event("team.updated", id: "team.updated:\(id):\(UUID().uuidString.lowercased())",
                           ["team_id": .string(id), "name": .string(name), "assignment": .string(assignment.rawValue)])
        }
    }

    /// Creates or changes a rep; `nil` leaves a field as it is (or at its default for a new rep).
    public func upsertRep(id: String, name: String?, team: String?, active: Bool?, capacity: Int?) throws {
        if let capacity, capacity < 0 { throw SalesError(.invalid, "capacity must be 0 or more") }
        try self.db.transaction {
            if let team, try self.db.query("select 1 from teams where id = $1", [team]).isEmpty {
                throw SalesError(.notFound, "no team \(team)")
            }
            let row = try self.db.query(
                """
                insert into reps (id, name, team_id, active, capacity)
                values ($1, coalesce($2, $1), $3, coalesce($4, true), coalesce($5, 200))
                on conflict (id) do update set name = coalesce($2, reps.name), team_id = coalesce($3, reps.team_id),
                       active = coalesce($4, reps.active), capacity = coalesce($5, reps.capacity), updated_at = now()
                returning name, team_id, active, capacity
                """, [id, name, team, active, capacity]).first!
            try self.event("rep.updated", id: "rep.updated:\(id):\(UUID().uuidString.lowercased())", [
                "rep_id": .string(id), "name": .string(row["name"] ?? id), "team_id": row["team_id"].map { .string($0) } ?? .null,
                "active": .bool(row["active"] == "t"), "capacity": .number(Double(row["capacity"] ?? "0") ?? 0)])
        }
    }

    // MARK: Claim and return

    public struct ClaimResult: Sendable, Hashable {
        public var leads: [UUID]
        /// The rule that made the claim smaller than asked, if one did.
        public var limitedBy: String?
    }

    /// Takes up to `count` of the pool's oldest unowned leads for `rep`, under the pool's rules.
    public func claim(rep: String, count: Int, pool: String = "default", actor: String, now: Date = Date()) throws -> ClaimResult {
        guard count > 0 else { throw SalesError(.invalid, "count must be at least 1") }
        return try self.db.transaction {
            let (capacity, _) = try self.lockActiveRep(rep)
            let rules = try self.rules(pool)
            let held: Int = try self.db.query(
                "select count(*)::int8 as n from leads where owner = $1 and merged_into is null", [rep]).first!.decode("n")
            let today: Int = try self.db.query(
                """
                select count(*)::int8 as n from lead_ownership
                where rep_id = $1 and action = 'claim' and at >= date_trunc('day', $2::timestamptz)
                """, [rep, ISO8601.string(now)]).first!.decode("n")
            let allowance = rules.allowance(requested: count, held: held, claimedToday: today, capacity: capacity)
            guard allowance.count > 0 else {
                throw SalesError(.limitReached, "\(rep) may claim no more now (\(allowance.limitedBy ?? "limit")): holds \(held), claimed \(today) today")
            }
            let ids: [UUID] = try self.db.query(
                """
                select id from leads l
                where pool_id = $1 and owner is null and merged_into is null
                  and coalesce(l.fields->>'_is_test', 'false') <> 'true'
                  and not exists (select 1 from lead_ownership o where o.lead_id = l.id and o.rep_id = $2
                                  and o.action = 'return' and o.at > $4::timestamptz - make_interval(days => $5))
                order by first_seen_at, id
                limit $3
                for update skip locked
                """, [pool, rep, allowance.count, ISO8601.string(now), rules.reclaimBarDays]).map { try $0.decode("id") }
            try self.own(ids, rep: rep, action: "claim", actor: actor, reason: nil, now: now)
            let limited = ids.count < count ? (allowance.limitedBy ?? (ids.count < allowance.count ? "pool_empty" : nil)) : nil
            return ClaimResult(leads: ids, limitedBy: limited)
        }
    }

    /// Puts `rep`'s leads back in their pool with a reason. Leads the rep does not own are refused, all
    /// or nothing.
    @discardableResult
    public func giveBack(_ leads: [UUID], rep: String, reason: String, actor: String, now: Date = Date()) throws -> Int {
        guard !leads.isEmpty else { throw SalesError(.invalid, "no leads to return") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw SalesError(.invalid, "a return needs a reason") }
        return try self.db.transaction {
            let ids = leads.map { $0.uuidString.lowercased() }
            let owned = try self.db.query(
                "select id from leads where id = any($1::uuid[]) and owner = $2 and merged_into is null order by id for update",
                [ids, rep])
            guard owned.count == Set(ids).count else {
                throw SalesError(.notOwner, "\(rep) owns \(owned.count) of the \(Set(ids).count) leads to return")
            }
            try self.db.query("update leads set owner = null, owned_since = null, updated_at = now() where id = any($1::uuid[])", [ids])
            try self.history(Array(Set(leads)), reps: Array(repeating: rep, count: Set(leads).count), action: "return",
                             actor: actor, reason: reason, now: now)
            try self.event("lead.returned", id: "lead.returned:\(UUID().uuidString.lowercased())", [
                "rep_id": .string(rep), "lead_ids": .array(ids.map { .string($0) }), "reason": .string(reason)])
            return owned.count
        }
    }

    // MARK: Assignment

    /// Hands the pool's oldest unowned leads (or the given ones) to a team's active reps by the team's
    /// policy, respecting each rep's capacity. Returns lead → rep.
    public func assign(team: String, count: Int? = nil, leads: [UUID]? = nil, pool: String = "default",
                       actor: String, now: Date = Date()) throws -> [(lead: UUID, rep: String)] {
        try self.db.transaction {
            guard let t = try self.db.query("select assignment, last_rep from teams where id = $1 for update", [team]).first else {
                throw SalesError(.notFound, "no team \(team)")
            }
            let policy = AssignmentPolicy(rawValue: t["assignment"] ?? "") ?? .roundRobin
            // Locking the team's reps keeps concurrent claims by them from overrunning capacity.
            let reps = try self.db.query(
                """
                select r.id, r.active, r.capacity,
                       (select count(*) from leads l where l.owner = r.id and l.merged_into is null)::int8 as held
                from reps r where r.team_id = $1 order by r.id for update of r
                """, [team]).map {
                    RepLoad(id: try $0.decode("id"), active: $0["active"] == "t", held: try $0.decode("held"), capacity: try $0.decode("capacity"))
                }
            let candidates: [UUID]
            if let leads {
                candidates = try self.db.query(
                    """
                    select id from leads where id = any($1::uuid[]) and owner is null and merged_into is null
                    order by first_seen_at, id for update
                    """, [leads.map { $0.uuidString.lowercased() }]).map { try $0.decode("id") }
                guard candidates.count == Set(leads).count else {
                    throw SalesError(.invalid, "\(Set(leads).count - candidates.count) of the leads are owned already or do not exist")
                }
            } else {
                candidates = try self.db.query(
                    """
                    select id from leads where pool_id = $1 and owner is null and merged_into is null
                      and coalesce(fields->>'_is_test', 'false') <> 'true'
                    order by first_seen_at, id limit $2 for update skip locked
                    """, [pool, count ?? 1]).map { try $0.decode("id") }
            }
            let (picked, last) = Assignment.distribute(candidates.count, among: reps, policy: policy, after: t["last_rep"])
            let pairs = Array(zip(candidates, picked)).map { (lead: $0.0, rep: $0.1) }
            for (rep, group) in Dictionary(grouping: pairs, by: \.rep).sorted(by: { $0.key < $1.key }) {
                try self.own(group.map(\.lead), rep: rep, action: "assign", actor: actor, reason: "team \(team) \(policy.rawValue)", now: now)
            }
            try self.db.query("update teams set last_rep = $2 where id = $1", [team, last])
            return pairs
        }
    }

    /// Hands the waiting leads of every pool with an `auto_assign_team` to that team; returns how many.
    @discardableResult
    public func autoAssign(actor: String = "auto-assign", batch: Int = 500) throws -> Int {
        var assigned = 0
        for p in try self.db.query("select id, auto_assign_team from lead_pools where auto_assign_team is not null order by id") {
            let pairs = try self.assign(team: try p.decode("auto_assign_team"), count: batch, pool: try p.decode("id"), actor: actor)
            assigned += pairs.count
        }
        return assigned
    }

    // MARK: Internals

    private func lockActiveRep(_ rep: String) throws -> (capacity: Int, team: String?) {
        guard let r = try self.db.query("select active, capacity, team_id from reps where id = $1 for update", [rep]).first else {
            throw SalesError(.notFound, "no rep \(rep)")
        }
        guard r["active"] == "t" else { throw SalesError(.inactiveRep, "\(rep) is not active") }
        return (try r.decode("capacity"), r["team_id"])
    }

    private func rules(_ pool: String) throws -> PoolRules {
        guard let p = try self.db.query(
            "select max_per_claim, max_per_day, max_held, reclaim_bar_days from lead_pools where id = $1", [pool]).first else {
            throw SalesError(.notFound, "no lead pool \(pool)")
        }
        return PoolRules(maxPerClaim: try p.decode("max_per_claim"), maxPerDay: try p.decode("max_per_day"),
                         maxHeld: try p.decode("max_held"), reclaimBarDays: try p.decode("reclaim_bar_days"))
    }

    private func own(_ leads: [UUID], rep: String, action: String, actor: String, reason: String?, now: Date) throws {
        guard !leads.isEmpty else { return }
        let ids = leads.map { $0.uuidString.lowercased() }
        try self.db.query("update leads set owner = $2, owned_since = $3::timestamptz, updated_at = now() where id = any($1::uuid[])",
                          [ids, rep, ISO8601.string(now)])
        try self.history(leads, reps: Array(repeating: rep, count: leads.count), action: action, actor: actor, reason: reason, now: now)
        try self.event("lead.\(action == "claim" ? "claimed" : "assigned")", id: "lead.\(action):\(UUID().uuidString.lowercased())", [
            "rep_id": .string(rep), "lead_ids": .array(ids.map { .string($0) }), "actor": .string(actor)])
    }

    private func history(_ leads: [UUID], reps: [String], action: String, actor: String, reason: String?, now: Date) throws {
        try self.db.query(
            """
            insert into lead_ownership (lead_id, rep_id, action, actor, reason, at)
            select l, r, $3, $4, $5, $6::timestamptz from unnest($1::uuid[], $2::text[]) as x(l, r)
            """, [leads.map { $0.uuidString.lowercased() }, reps, action, actor, reason, ISO8601.string(now)])
        try AuditLog(db: self.db).append(actor: actor, action: "lead.\(action)",
                                         targets: leads.map { $0.uuidString.lowercased() } + Set(reps).sorted().map { "rep:\($0)" }, now: now)
    }

    /// One outbox event with `event` and `occurred_at` added to the payload.
    func event(_ kind: String, id: String, _ payload: [String: JSONValue]) throws {
        var p = payload
        p["event"] = .string(kind)
        p["occurred_at"] = .string(ISO8601.string(Date()))
        let row = JSONValue.array([.object(["message_id": .string(id), "routing_key": .string(kind), "payload": .object(p)])])
        try Outbox.enqueue(rows: row.jsonString, on: self.db)
    }
}
