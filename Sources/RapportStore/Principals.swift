import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The principals table and the lookups ``CommandAccess`` decides with: who a user_id is, who owns
/// the records a command names, which team a rep is in. Refusals are recorded here.
public struct Principals: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// Adds or changes a principal.
    public func upsert(_ p: CommandAccess.Principal) throws {
        try self.db.query(
            """
            insert into principals (name, role, rep_id, team_id) values ($1, $2, $3, $4)
            on conflict (name) do update set role = excluded.role, rep_id = excluded.rep_id, team_id = excluded.team_id
            """, [p.name, p.role.rawValue, p.repID, p.teamID])
    }

    public func find(_ name: String) throws -> CommandAccess.Principal? {
        guard let row = try self.db.query("select name, role, rep_id, team_id from principals where name = $1", [name]).first,
              let role = CommandAccess.Role(rawValue: try row.decode("role")) else { return nil }
        return CommandAccess.Principal(name: name, role: role, repID: row["rep_id"], teamID: row["team_id"])
    }

    public func all() throws -> [CommandAccess.Principal] {
        var out: [CommandAccess.Principal] = []
        for row in try self.db.query("select name, role, rep_id, team_id from principals order by name") {
            guard let role = CommandAccess.Role(rawValue: try row.decode("role")) else { continue }
            out.append(CommandAccess.Principal(name: try row.decode("name"), role: role, repID: row["rep_id"], teamID: row["team_id"]))
        }
        return out
    }

    /// A rep and their team (`team` nil for an unknown rep).
    public func rep(_ id: String) throws -> CommandAccess.Owner {
        CommandAccess.Owner(rep: id, team: try self.db.query("select team_id from reps where id = $1", [id]).first?["team_id"])
    }

    /// The owners of the records `ids` name, with their teams; a record without owner counts as unowned.
    public func owners(_ subject: CommandAccess.Subject, ids: [String]) throws -> [CommandAccess.Owner] {
        guard !ids.isEmpty else { return [] }
        let owners: String
        switch subject {
        case .customers: owners = "select c.owner from customers c where c.id::text = any($1::text[])"
        case .lead: owners = "select l.owner from leads l where l.id::text = any($1::text[])"
        case .opportunity: owners = "select o.owner from opportunities o where o.id::text = any($1::text[])"
        case .quote: owners = "select o.owner from quotes q join opportunities o on o.id = q.opportunity_id where q.id::text = any($1::text[])"
        case .order: owners = "select o.owner from orders d join opportunities o on o.id = d.opportunity_id where d.id::text = any($1::text[])"
        case .followUpPlan: owners = "select p.rep_id as owner from followup_plans p where p.id::text = any($1::text[])"
        }
        return try self.db.query("select x.owner, r.team_id from (\(owners)) x left join reps r on r.id = x.owner", [ids]).map {
            CommandAccess.Owner(rep: $0["owner"], team: $0["team_id"])
        }
    }

    /// Records a refusal.
    public func refused(principal: String?, routingKey: String, messageID: String?, reason: String) throws {
        try self.db.transaction {
            try self.db.query("insert into access_refusals (principal, routing_key, message_id, reason) values ($1, $2, $3, $4)",
                              [principal, routingKey, messageID, reason])
            try AuditLog(db: self.db).append(actor: principal ?? "(no user_id)", action: "command.refused",
                                             targets: messageID.map { ["message:\($0)"] } ?? [], detail: "\(routingKey): \(reason)")
        }
    }
}
