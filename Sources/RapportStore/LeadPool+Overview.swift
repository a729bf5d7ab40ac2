import Foundation
import RapportPostgres

extension LeadPool {
    /// One lead pool's rules and how many leads wait in it.
    public struct PoolSummary: Sendable, Hashable {
        public var id: String, waiting: Int, maxPerClaim: Int, maxPerDay: Int, maxHeld: Int, reclaimBarDays: Int
    }

    /// One rep and how many leads they hold.
    public struct RepSummary: Sendable, Hashable {
        public var id: String, name: String?, team: String?, active: Bool, capacity: Int, held: Int
    }

    /// Every pool with its waiting leads, and every rep with their holdings.
    public func overview() throws -> (pools: [PoolSummary], reps: [RepSummary]) {
        let pools = try self.db.query(
            """
            select p.id, p.max_per_claim, p.max_per_day, p.max_held, p.reclaim_bar_days,
                   (select count(*) from leads l where l.pool_id = p.id and l.owner is null and l.merged_into is null) as waiting
            from lead_pools p order by p.id
            """).map {
                PoolSummary(id: try $0.decode("id"), waiting: try $0.decode("waiting"), maxPerClaim: try $0.decode("max_per_claim"),
                            maxPerDay: try $0.decode("max_per_day"), maxHeld: try $0.decode("max_held"),
                            reclaimBarDays: try $0.decode("reclaim_bar_days"))
            }
        let reps = try self.db.query(
            """
            select r.id, r.name, r.team_id, r.active, r.capacity,
                   (select count(*) from leads l where l.owner = r.id and l.merged_into is null) as held
            from reps r order by r.id
            """).map {
                RepSummary(id: try $0.decode("id"), name: $0["name"], team: $0["team_id"], active: try $0.decode("active"),
                           capacity: try $0.decode("capacity"), held: try $0.decode("held"))
            }
        return (pools, reps)
    }

    /// Creates a lead pool or changes its rules; `nil` keeps what is there (`autoAssignTeam` `""` stops auto-assignment).
    public func savePool(id: String, maxPerClaim: Int?, maxPerDay: Int?, maxHeld: Int?, reclaimBarDays: Int?, autoAssignTeam: String?) throws {
        try self.db.query(
            """
            insert into lead_pools (id, name, max_per_claim, max_per_day, max_held, reclaim_bar_days, auto_assign_team)
            values ($1, $1, coalesce($2, 20), coalesce($3, 100), coalesce($4, 200), coalesce($5, 7), nullif($6, ''))
            on conflict (id) do update set max_per_claim = coalesce($2, lead_pools.max_per_claim),
                max_per_day = coalesce($3, lead_pools.max_per_day), max_held = coalesce($4, lead_pools.max_held),
                reclaim_bar_days = coalesce($5, lead_pools.reclaim_bar_days),
                auto_assign_team = case when $6::text is null then lead_pools.auto_assign_team else nullif($6, '') end
            """, [id, maxPerClaim, maxPerDay, maxHeld, reclaimBarDays, autoAssignTeam])
    }
}
