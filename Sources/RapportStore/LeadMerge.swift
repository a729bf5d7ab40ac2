import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Manual merge and unmerge of leads, with full history.
///
/// A merge moves the loser's messages, identity keys and blocking keys to the winner, fills the winner's
/// blanks from the loser, and marks the loser `merged_into` (kept, never deleted). Both leads' rows as they
/// were are stored with the merge, so an unmerge puts everything back.
public struct LeadMerge: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// A merge, unmerge or review decision that cannot happen.
    public struct MergeError: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public typealias Code = ErrorCode<MergeError>

        public var code: Code
        public var description: String

        public init(_ code: Code, _ description: String) {
            self.code = code
            self.description = description
        }
    }

    static let leadColumns = "id, name, phone, email, company, address, utm, fields, customer_id, touch_count, first_seen_at, last_seen_at, merged_into"

    /// Merges `loser` into `winner`; returns the merge id.
    @discardableResult
    public func merge(winner: UUID, loser: UUID, actor: String, reason: String? = nil) throws -> Int64 {
        guard winner != loser else { throw MergeError(.sameLead, "a lead cannot be merged into itself") }
        return try self.db.transaction {
            try self.db.query("select pg_advisory_xact_lock($1)", [LeadStore.resolutionLock])
            let rows = try self.db.query(
                "select id, to_jsonb(l) as row, merged_into from leads l where id = any($1::uuid[]) order by id for update",
                [[winner, loser].map { $0.uuidString.lowercased() }])
            guard rows.count == 2 else { throw MergeError(.notFound, "both leads must exist") }
            for r in rows where r["merged_into"] != nil {
                throw MergeError(.alreadyMerged, "lead \(r["id"] ?? "?") was already merged into \(r["merged_into"]!)")
            }
            let before = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode("id", as: UUID.self), $0["row"] ?? "{}") })
            let w = winner.uuidString.lowercased(), l = loser.uuidString.lowercased()
            let id: Int64 = try self.db.query(
                """
                insert into lead_merges (winner_lead_id, loser_lead_id, actor, reason, winner_before, loser_before,
                                         loser_identities, loser_keys, winner_keys, loser_messages)
                select $1, $2, $3, $4, $5::jsonb, $6::jsonb,
                       coalesce((select array_agg(key) from lead_identities where lead_id = $2), '{}'),
                       coalesce((select array_agg(key) from lead_keys where lead_id = $2), '{}'),
                       coalesce((select array_agg(key) from lead_keys where lead_id = $1), '{}'),
                       coalesce((select jsonb_agg(jsonb_build_array(source, message_id)) from inbound_ledger where lead_id = $2), '[]')
                returning id
                """, [w, l, actor, reason, before[winner], before[loser]]).first!.decode("id")
            // The winner keeps its values and fills its blanks from the loser.
            try self.db.query(
                """
                update leads w set name = coalesce(w.name, x.name), phone = coalesce(w.phone, x.phone),
                       email = coalesce(w.email, x.email), company = coalesce(w.company, x.company),
                       address = coalesce(w.address, x.address), utm = x.utm || w.utm, fields = x.fields || w.fields,
                       customer_id = coalesce(w.customer_id, x.customer_id), touch_count = w.touch_count + x.touch_count,
                       first_seen_at = least(w.first_seen_at, x.first_seen_at),
                       last_seen_at = greatest(w.last_seen_at, x.last_seen_at), updated_at = now()
                from leads x where w.id = $1 and x.id = $2
                """, [w, l])
            try self.db.query("update leads set merged_into = $1, updated_at = now() where id = $2", [w, l])
            try self.db.query("update lead_identities set lead_id = $1 where lead_id = $2", [w, l])
            try self.db.query(
                "insert into lead_keys (key, lead_id) select key, $1 from lead_keys where lead_id = $2 on conflict do nothing", [w, l])
            try self.db.query("delete from lead_keys where lead_id = $1", [l])
            try self.db.query("update inbound_ledger set lead_id = $1 where lead_id = $2", [w, l])
            // Fuzzy batches planned before this commit must see that both leads changed.
            try LeadStore.recordCommit([(UUID(uuidString: w)!, -1), (UUID(uuidString: l)!, -1)], on: self.db)
            try Outbox.enqueue(rows: Self.event("lead.merged", merge: id, winner: w, loser: l, actor: actor), on: self.db)
            try AuditLog(db: self.db).append(actor: actor, action: "lead.merge", targets: [w, l], detail: "merge \(id)")
            return id
        }
    }

    /// Undoes a merge: both leads as they were, the loser's messages and keys back with it.
    public func unmerge(_ mergeID: Int64, actor: String) throws {
        try self.db.transaction {
            try self.db.query("select pg_advisory_xact_lock($1)", [LeadStore.resolutionLock])
            guard let m = try self.db.query(
                """
                select winner_lead_id, loser_lead_id, winner_before::text as wb, loser_before::text as lb,
                       loser_identities, loser_keys, winner_keys, loser_messages::text as lm, unmerged_at
                from lead_merges where id = $1 for update
                """, [mergeID]).first else { throw MergeError(.notFound, "no merge \(mergeID)") }
            guard m["unmerged_at"] == nil else { throw MergeError(.alreadyDecided, "merge \(mergeID) was already undone") }
            let w: String = try m.decode("winner_lead_id"), l: String = try m.decode("loser_lead_id")
            // A later merge of the winner would be undone silently by restoring its old row: refuse.
            let later = try self.db.query(
                "select id from lead_merges where id > $1 and unmerged_at is null and (winner_lead_id = $2 or loser_lead_id = $2)",
                [mergeID, w])
            if let r = later.first { throw MergeError(.laterMergeFirst, "undo merge \(r["id"] ?? "?") first: it changed the same lead later") }
            for (id, row) in [(w, m["wb"] ?? "{}"), (l, m["lb"] ?? "{}")] {
                try self.db.query(
                    """
                    update leads t set name = x.name, phone = x.phone, email = x.email, company = x.company,
                           address = x.address, utm = x.utm, fields = x.fields, customer_id = x.customer_id,
                           touch_count = x.touch_count, first_seen_at = x.first_seen_at, last_seen_at = x.last_seen_at,
                           merged_into = x.merged_into, updated_at = now()
                    from jsonb_populate_record(null::leads, $2::jsonb) x where t.id = $1
                    """, [id, row])
            }
            let identities: [String] = try m.decode("loser_identities")
            let keys: [String] = try m.decode("loser_keys")
            try self.db.query("update lead_identities set lead_id = $1 where key = any($2::text[])", [l, identities])
            let winnerKeys: [String] = try m.decode("winner_keys")
            try self.db.query(
                "insert into lead_keys (key, lead_id) select unnest($1::text[]), $2 on conflict do nothing", [keys, l])
            try self.db.query("delete from lead_keys where lead_id = $1 and not (key = any($2::text[]))", [w, winnerKeys])
            try self.db.query(
                """
                update inbound_ledger g set lead_id = $1
                from jsonb_array_elements($2::jsonb) e
                where g.source = e->>0 and g.message_id = e->>1
                """, [l, m["lm"] ?? "[]"])
            try self.db.query("update lead_merges set unmerged_at = now() where id = $1", [mergeID])
            // Fuzzy batches planned before this commit must see that both leads changed.
            try LeadStore.recordCommit([(UUID(uuidString: w)!, -1), (UUID(uuidString: l)!, -1)], on: self.db)
            try Outbox.enqueue(rows: Self.event("lead.unmerged", merge: mergeID, winner: w, loser: l, actor: actor), on: self.db)
            try AuditLog(db: self.db).append(actor: actor, action: "lead.unmerge", targets: [w, l], detail: "merge \(mergeID)")
        }
    }

    static func event(_ kind: String, merge: Int64, winner: String, loser: String, actor: String) -> String {
        var payload = JSONRowsWriter()
        payload.beginRow()
        payload.field("event", kind)
        payload.field("merge_id", Int(merge))
        payload.field("winner_lead_id", winner)
        payload.field("loser_lead_id", loser)
        payload.field("actor", actor)
        payload.endRow()
        var w = JSONRowsWriter()
        w.beginRow()
        w.field("message_id", "\(kind):\(merge)")
        w.field("routing_key", kind)
        w.field("payload", rawJSON: String(payload.finish().dropFirst().dropLast()))
        w.endRow()
        return w.finish()
    }
}

extension ErrorCode where Owner == LeadMerge.MergeError {
    /// No such lead, merge or duplicate candidate.
    public static let notFound = Self("not_found")
    /// A lead cannot be merged into itself.
    public static let sameLead = Self("same_lead")
    /// The lead was merged into another already.
    public static let alreadyMerged = Self("already_merged")
    /// The merge was undone, or the candidate decided, before.
    public static let alreadyDecided = Self("already_decided")
    /// A later merge changed the same lead: undo that one first.
    public static let laterMergeFirst = Self("later_merge_first")
}
