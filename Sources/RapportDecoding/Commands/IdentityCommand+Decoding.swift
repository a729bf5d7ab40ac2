import Foundation
import RapportCore
import RapportSupport

extension IdentityCommand {
    /// Decodes one command message.
    ///
    /// - Returns: the command and its actor, or a rejection naming the field that failed.
    public static func decode(_ e: InboundEnvelope) -> Result<(IdentityCommand, actor: String), InboundRejection> {
        CommandEnvelope.parse(e).flatMap { body, actor in
            let f = CommandEnvelope.Fields(body)
            let command: Result<IdentityCommand, InboundRejection>
            switch e.routingKey {
            case "identity.merge":
                command = f.uuid("winner_lead_id").flatMap { w in
                    f.uuid("loser_lead_id").flatMap { l in
                        w == l ? .failure(.init(code: .invalidField, reason: "A lead cannot be merged into itself.", field: "loser_lead_id"))
                            : .success(.merge(winner: w, loser: l, reason: body["reason"]?.stringValue))
                    }
                }
            case "identity.unmerge":
                command = f.integer("merge_id").map { .unmerge(mergeID: $0!) }
            case "identity.review":
                command = f.integer("candidate_id").flatMap { id in
                    switch body["decision"]?.stringValue {
                    case "merge"?: .success(.review(candidateID: id!, merge: true))
                    case "dismiss"?: .success(.review(candidateID: id!, merge: false))
                    default: .failure(.init(code: .invalidField, reason: "`decision` is \"merge\" or \"dismiss\".", field: "decision"))
                    }
                }
            default:
                command = .failure(.init(code: .unknownRoutingKey, reason: "No identity command is routed on \(e.routingKey).", field: "routing_key"))
            }
            return command.map { ($0, actor) }
        }
    }
}
