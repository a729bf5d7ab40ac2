import Foundation
import RapportPostgres

extension IdentityCommands {
    /// A possible duplicate waiting for a person's decision.
    public struct OpenCandidate: Sendable, Hashable {
        public var id: Int64, lead: String, candidateLead: String, score: String?, reasons: String?
        public var leadName: String?, candidateName: String?
    }

    /// Open duplicate candidates, newest first.
    public func openCandidates(limit: Int) throws -> [OpenCandidate] {
        try self.db.query(
            """
            select c.id, c.lead_id::text as lead_id, c.candidate_lead_id::text as candidate_lead_id, c.score::text as score,
                   c.reasons::text as reasons, a.name as lead_name, b.name as candidate_name
            from duplicate_candidates c left join leads a on a.id = c.lead_id left join leads b on b.id = c.candidate_lead_id
            where c.status = 'open' order by c.id desc limit $1
            """, [limit]).map {
                OpenCandidate(id: try $0.decode("id"), lead: $0["lead_id"] ?? "", candidateLead: $0["candidate_lead_id"] ?? "",
                              score: $0["score"], reasons: $0["reasons"], leadName: $0["lead_name"], candidateName: $0["candidate_name"])
            }
    }
}
