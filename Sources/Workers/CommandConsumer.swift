import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportPostgres

/// Applies identity commands, each once: the command's message id is recorded in the same transaction
/// as its effect, so a redelivered command (or the same command sent twice) changes nothing.
public struct IdentityCommands: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    public enum Outcome: Sendable, Equatable {
        /// Applied now; `detail` says what happened (merge id, candidate decided).
        case done(detail: String)
        /// Refused for a reason a retry cannot fix (lead already merged, no such merge).
        case rejected(reason: String)
        /// This message id was processed before; `outcome` is what happened then.
        case alreadyProcessed(outcome: String)
    }

    public func apply(_ command: IdentityCommand, actor: String, messageID: String, body: [UInt8]) throws -> Outcome {
        try self.db.transaction {
            let fresh = try self.db.query(
                """
                insert into processed_commands (message_id, command, actor, body) values ($1, $2, $3, $4::jsonb)
                on conflict (message_id) do nothing returning 1
                """, [messageID, command.name, actor, String(decoding: body, as: UTF8.self)])
            if fresh.isEmpty {
                let earlier = try self.db.query("select outcome from processed_commands where message_id = $1", [messageID])
                return .alreadyProcessed(outcome: earlier.first?["outcome"] ?? "unknown")
            }
            let outcome: Outcome
            do {
                // A savepoint: a refused command leaves only its history row behind.
                outcome = .done(detail: try self.db.transaction { try self.execute(command, actor: actor) })
            } catch let e as LeadMerge.MergeError {
                outcome = .rejected(reason: e.description)
            }
            switch outcome {
            case .done(let detail), .rejected(reason: let detail):
                try self.db.query("update processed_commands set outcome = $2, detail = $3 where message_id = $1",
                                  [messageID, outcome == .done(detail: detail) ? "done" : "rejected", detail])
            case .alreadyProcessed: break
            }
            return outcome
        }
    }

    private func execute(_ command: IdentityCommand, actor: String) throws -> String {
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
        }
    }

    /// Decides an open duplicate candidate: merge the pair (the lead that was there first wins) or dismiss it.
    public func review(_ candidateID: Int64, merge: Bool, actor: String) throws -> String {
        try self.db.transaction {
            guard let c = try self.db.query(
                "select lead_id, candidate_lead_id, status from duplicate_candidates where id = $1 for update",
                [candidateID]).first else { throw LeadMerge.MergeError(description: "no duplicate candidate \(candidateID)") }
            guard c["status"] == "open" else {
                throw LeadMerge.MergeError(description: "duplicate candidate \(candidateID) was already decided (\(c["status"] ?? "?"))")
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

/// Consumes `rapport.commands.identity`: merge, unmerge and review commands, one at a time.
///
/// Malformed and refused commands are dead-lettered with the reason (and acked only once the dead letter
/// is confirmed), so the sender can see why nothing happened.
public final class CommandConsumer: Sendable {
    let settings: RapportSettings
    let topology: Topology
    let logger: Logger
    public let queue: String

    public init(settings: RapportSettings, topology: Topology, logger: Logger, queue: String = "rapport.commands.identity") {
        self.settings = settings
        self.topology = topology
        self.logger = logger
        self.queue = queue
    }

    public func run(index: Int, stop: StopSignal) {
        var backoff = Backoff(maximum: .milliseconds(self.settings.maxBackoffMilliseconds))
        while !stop.isSet {
            do {
                let conn = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-commands-\(index)"))
                defer { conn.close() }
                try TopologyApplier.apply(self.topology, on: conn)
                let publisher = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-commands-dlx-\(index)"))
                defer { publisher.close() }
                try publisher.enableConfirms()
                let db = try PGConnection(self.settings.postgresURL)
                defer { db.close() }
                try conn.setPrefetch(16)
                let tag = try conn.consume(queue: self.queue)
                backoff.reset()
                while !stop.isSet {
                    guard let d = try conn.nextDelivery(timeout: .milliseconds(250)) else {
                        try publisher.pump()
                        continue
                    }
                    try self.handle(d, db: db, publisher: publisher)
                    try conn.ack(d.deliveryTag)
                }
                try? conn.cancel(consumerTag: tag)
            } catch {
                let wait = backoff.next()
                self.logger.warning("command consumer reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                stop.sleep(for: wait)
            }
        }
    }

    func handle(_ d: AMQPDelivery, db: PGConnection, publisher: AMQPConnection) throws {
        let envelope = InboundEnvelope(exchange: d.exchange, routingKey: d.routingKey, messageID: d.properties.messageID,
                                       appID: d.properties.appID, contentType: d.properties.contentType, body: d.body)
        switch IdentityCommand.decode(envelope) {
        case .failure(let r):
            self.logger.warning("command dead-lettered", metadata: ["message_id": "\(d.properties.messageID ?? "-")", "reason": "\(r)"])
            try DeadLetters.publish([(d, r)], on: publisher)
        case .success(let (command, actor)):
            // Database faults throw: the delivery stays unacked and comes back after the reconnect.
            let outcome = try IdentityCommands(db: db).apply(command, actor: actor, messageID: envelope.messageID!, body: d.body)
            switch outcome {
            case .done(let detail):
                self.logger.info("command applied", metadata: ["message_id": "\(envelope.messageID!)", "detail": "\(detail)"])
            case .alreadyProcessed(let earlier):
                self.logger.info("command already processed", metadata: ["message_id": "\(envelope.messageID!)", "outcome": "\(earlier)"])
            case .rejected(let reason):
                let r = InboundRejection(code: IdentityCommand.rejected, reason: reason)
                self.logger.warning("command refused", metadata: ["message_id": "\(envelope.messageID!)", "reason": "\(reason)"])
                try DeadLetters.publish([(d, r)], on: publisher)
            }
        }
    }
}
