import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Merges, unmerges and review decisions.
public struct IdentityCommands: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    public func execute(_ command: IdentityCommand, actor: String) throws -> String {
        let merges = LeadMerge(db: self.db)
        switch command {
        case .merge(let winner, let loser, let reason):
            let id = try merges.merge(winner: winner, loser: loser, actor: actor, reason: reason)
            return "merge \(id)"
        case .unmerge(let id):
            try merges.unmerge(id, actor: actor)
            return "merge \(id) undone"
        case .review(let candidateID, let merge):
            return try self.review(candidateID, merge: merge, actor: actor)
        case .erase(let subject, let customer):
            let r = try Erasure(db: self.db).erase(customer ? .customer : .lead, subject, actor: actor, vacuum: false)
            return "erase \(r.eraseID.uuidString.lowercased()): \(r.leads.count) leads, \(r.keysDestroyed) data keys destroyed"
        }
    }

    /// Decides an open duplicate candidate: merge the pair (the lead that was there first wins) or dismiss it.
    public func review(_ candidateID: Int64, merge: Bool, actor: String) throws -> String {
        try self.db.transaction {
            guard let c = try self.db.query(
                "select lead_id, candidate_lead_id, status from duplicate_candidates where id = $1 for update",
                [candidateID]).first else { throw LeadMerge.MergeError(.notFound, "no duplicate candidate \(candidateID)") }
            guard c["status"] == "open" else {
                throw LeadMerge.MergeError(.alreadyDecided, "duplicate candidate \(candidateID) was already decided (\(c["status"] ?? "?"))")
            }
            var mergeID: Int64?
            if merge {
                mergeID = try LeadMerge(db: self.db).merge(
                    winner: try c.decode("candidate_lead_id"), loser: try c.decode("lead_id"), actor: actor,
                    reason: "duplicate candidate \(candidateID)")
            }
            try self.db.query(
                """
                update duplicate_candidates set status = $2, decided_by = $3, decided_at = now(), merge_id = $4
                where id = $1
                """, [candidateID, merge ? "merged" : "dismissed", actor, mergeID])
            return mergeID.map { "candidate \(candidateID) merged as merge \($0)" } ?? "candidate \(candidateID) dismissed"
        }
    }
}
