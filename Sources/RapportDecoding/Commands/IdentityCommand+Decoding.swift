import Foundation
import RapportCore
import RapportSupport

extension IdentityCommand {
    /// Decodes one command message.
    ///
    /// - Returns: the command and its actor, or a rejection naming the field that failed.
    public static func decode(_ e: InboundEnvelope) -> Result<(IdentityCommand, actor: String), InboundRejection> {
        Result { () throws(InboundRejection) in
            let (command, envelope) = try Self.parse(e)
            return (command, envelope.actor)
        }
    }

    /// ``decode(_:)`` with typed throws, and the checked envelope (actor, message id).
    public static func parse(_ e: InboundEnvelope) throws(InboundRejection) -> (IdentityCommand, CommandEnvelope) {
        let envelope = try CommandEnvelope.parse(e)
        let f = envelope.fields
        switch e.routingKey {
        case "identity.merge":
            let (winner, loser) = (try f.uuid("winner_lead_id"), try f.uuid("loser_lead_id"))
            guard winner != loser else {
                throw InboundRejection(code: .invalidField, reason: "A lead cannot be merged into itself.", field: "loser_lead_id")
            }
            return (.merge(winner: winner, loser: loser, reason: f.body["reason"]?.stringValue), envelope)
        case "identity.unmerge":
            return (.unmerge(mergeID: try f.integer("merge_id")), envelope)
        case "identity.review":
            let id = try f.integer("candidate_id")
            switch f.body["decision"]?.stringValue {
            case "merge"?: return (.review(candidateID: id, merge: true), envelope)
            case "dismiss"?: return (.review(candidateID: id, merge: false), envelope)
            default: throw InboundRejection(code: .invalidField, reason: "`decision` is \"merge\" or \"dismiss\".", field: "decision")
            }
        case "identity.erase":
            switch (f.body["lead_id"], f.body["customer_id"]) {
            case (_?, nil): return (.erase(subject: try f.uuid("lead_id"), customer: false), envelope)
            case (nil, _?): return (.erase(subject: try f.uuid("customer_id"), customer: true), envelope)
            default: throw InboundRejection(code: .invalidField, reason: "Name exactly one of `lead_id` and `customer_id`.", field: "lead_id")
            }
        default:
            throw InboundRejection(code: .unknownRoutingKey, reason: "No identity command is routed on \(e.routingKey).", field: "routing_key")
        }
    }
}
