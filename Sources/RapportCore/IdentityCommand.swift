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

    /// The routing keys this command set is bound on.
    public static let routingKeys = ["identity.merge", "identity.unmerge", "identity.review"]

    /// The command's name as stored in history (`merge`, `unmerge`, `review`).
    public var name: String {
        switch self {
        case .merge: "merge"
        case .unmerge: "unmerge"
        case .review: "review"
        }
    }

    /// A rejected command is not something to retry: the broker would only deliver it again.
    public static let rejected = RejectionCode(rawValue: "command_rejected")

    /// Decodes one command message.
    ///
    /// - Returns: the command and its actor, or a rejection naming the field that failed.
    public static func decode(_ e: InboundEnvelope, maxBodyBytes: Int = 64 * 1024) -> Result<(IdentityCommand, actor: String), InboundRejection> {
        guard let id = e.messageID, !id.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .failure(.init(code: .missingMessageID, reason: "Commands need a message_id property: it makes a redelivered command a no-op.", field: "message_id"))
        }
        guard e.contentType?.lowercased().hasPrefix("application/json") == true else {
            return .failure(.init(code: .wrongContentType, reason: "Commands are application/json, not \(e.contentType ?? "(none)").", field: "content_type"))
        }
        guard e.body.count <= maxBodyBytes else {
            return .failure(.init(code: .bodyTooLarge, reason: "Command body is \(e.body.count) bytes; the limit is \(maxBodyBytes)."))
        }
        guard let parsed = try? JSONValue.parse(e.body), let o = parsed.objectValue else {
            return .failure(.init(code: .invalidJSON, reason: "Command body is not a JSON object."))
        }
        guard let actor = (o["actor"]?.stringValue ?? e.appID)?.trimmingCharacters(in: .whitespaces), !actor.isEmpty else {
            return .failure(.init(code: .invalidField, reason: "Commands name who asked: an `actor` string (or the app_id property).", field: "actor"))
        }
        func lead(_ key: String) -> Result<UUID, InboundRejection> {
            guard let s = o[key]?.stringValue, let u = UUID(uuidString: s) else {
                return .failure(.init(code: .invalidField, reason: "`\(key)` must be a lead id (UUID).", field: key))
            }
            return .success(u)
        }
        func number(_ key: String) -> Result<Int64, InboundRejection> {
            let bad = InboundRejection(code: .invalidField, reason: "`\(key)` must be a positive integer.", field: key)
            switch o[key] {
            case .number(let d)? where d >= 1 && d < 9e15 && d.rounded() == d: return .success(Int64(d))
            case .string(let s)?: return Int64(s).flatMap { $0 >= 1 ? $0 : nil }.map { .success($0) } ?? .failure(bad)
            default: return .failure(bad)
            }
        }
        let command: Result<IdentityCommand, InboundRejection>
        switch e.routingKey {
        case "identity.merge":
            command = lead("winner_lead_id").flatMap { w in
                lead("loser_lead_id").flatMap { l in
                    w == l ? .failure(.init(code: .invalidField, reason: "A lead cannot be merged into itself.", field: "loser_lead_id"))
                        : .success(.merge(winner: w, loser: l, reason: o["reason"]?.stringValue))
                }
            }
        case "identity.unmerge":
            command = number("merge_id").map { .unmerge(mergeID: $0) }
        case "identity.review":
            command = number("candidate_id").flatMap { id in
                switch o["decision"]?.stringValue {
                case "merge"?: .success(.review(candidateID: id, merge: true))
                case "dismiss"?: .success(.review(candidateID: id, merge: false))
                default: .failure(.init(code: .invalidField, reason: "`decision` is \"merge\" or \"dismiss\".", field: "decision"))
                }
            }
        default:
            command = .failure(.init(code: .unknownRoutingKey, reason: "No identity command is routed on \(e.routingKey).", field: "routing_key"))
        }
        return command.map { ($0, actor) }
    }
}
