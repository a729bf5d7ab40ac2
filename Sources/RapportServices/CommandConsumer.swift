import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportSupport
import RapportDecoding
import RapportPostgres
import RapportRuntime
import RapportStore

/// A command queue as a ``QueueConsumer`` handler: each command applied through its ``CommandHandler``,
/// dead-lettered when the handler says so, and answered on `reply_to` with `correlation_id`.
public struct CommandConsumer: DeliveryHandler {
    let handler: any CommandHandler
    let logger: Logger

    public init(handler: any CommandHandler, logger: Logger) {
        self.handler = handler
        self.logger = logger
    }

    public func handle(_ batch: [AMQPDelivery], database db: PGConnection) throws -> DeliveryOutcome {
        var outcome = DeliveryOutcome()
        for d in batch {
            let (deadLetter, reply) = try self.handle(d, db: db)
            if let deadLetter { outcome.deadLetters.append((d, deadLetter)) }
            if let reply { outcome.replies.append(reply) }
        }
        return outcome
    }

    private func handle(_ d: AMQPDelivery, db: PGConnection) throws -> (InboundRejection?, OutgoingMessage?) {
        // A database outage throws: the consumer holds the command and tries again. A command the
        // database refuses for its data (a number out of range) would only fail again, so it is answered
        // and dead-lettered like any other refusal.
        let outcome: CommandOutcome
        var envelope = InboundEnvelope(d)
        do {
            switch try CommandAuthorizer().authorize(envelope, db: db) {
            case .failure(let refusal):
                outcome = .refused(refusal, deadLetter: true)
            case .success(let principal):
                // The actor is who the broker says sent it, whatever the body claims.
                envelope.authenticatedSource = principal.name
                outcome = try self.handler.handle(envelope, db: db)
            }
        } catch let e as PGError where !e.isTransient && db.isConnected {
            outcome = .refused(InboundRejection(code: .storageRejected, reason: "The database refused the command: \(e.message)"), deadLetter: true)
        }
        let id = d.properties.messageID ?? "-"
        if let e = outcome.error {
            self.logger.info("command refused", metadata: ["message_id": "\(id)", "routing_key": "\(d.routingKey)", "reason": "\(e)"])
        } else {
            self.logger.info("command applied", metadata: ["message_id": "\(id)", "routing_key": "\(d.routingKey)"])
        }
        Telemetry.command(d.routingKey, ok: outcome.error == nil)
        var reply: OutgoingMessage?
        if let replyTo = d.properties.replyTo, !replyTo.isEmpty {
            var p = AMQPProperties(contentType: "application/json", messageID: "reply:\(id)", appID: "rapport", timestamp: Date())
            p.correlationID = d.properties.correlationID ?? d.properties.messageID
            p.type = d.routingKey + ".reply"
            reply = OutgoingMessage(exchange: "", routingKey: replyTo, body: Array(outcome.reply.jsonString.utf8), properties: p)
        }
        return (outcome.deadLetter ? outcome.error : nil, reply)
    }
}
