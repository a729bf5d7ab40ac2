import RapportSupport
import Foundation

/// A command on `rapport.commands` that changes identities: merge two leads, undo a merge, or decide a
/// duplicate candidate from the review queue.
///
/// Commands are JSON bodies with a `message_id` property (the idempotency key) and an `actor` (who asked,
/// for the history); the routing key names the command.
public enum IdentityCommand: Sendable, Hashable {
    case merge(winner: UUID, loser: UUID, reason: String?)
    case unmerge(mergeID: Int64)
    /// `merge` true merges the candidate pair (the older lead wins); false dismisses it.
    case review(candidateID: Int64, merge: Bool)
    /// Erase a lead (`customer` false) or a customer with its leads, for good (admins only).
    case erase(subject: UUID, customer: Bool)

    /// The routing keys this command set is bound on.
    public static let routingKeys = ["identity.merge", "identity.unmerge", "identity.review", "identity.erase"]

    /// The command's name as stored in history (`merge`, `unmerge`, `review`).
    public var name: String {
        switch self {
        case .merge: "merge"
        case .unmerge: "unmerge"
        case .review: "review"
        case .erase: "erase"
        }
    }

    /// A rejected command is not something to retry: the broker would only deliver it again.
    public static let rejected = RejectionCode(rawValue: "command_rejected")
}
