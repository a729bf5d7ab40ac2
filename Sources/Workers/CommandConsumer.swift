import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportPostgres

/// Each command message applied once: its message id is recorded in the transaction of its effect,
/// with the reply, so a redelivered command (or the same one sent twice) changes nothing and is
/// answered as the first time.
public enum ProcessedCommands {
    /// Runs `apply` (in a savepoint: a refusal leaves only the history row) unless `messageID` was
    /// processed before, in which case the stored reply comes back.
    public static func once(_ db: PGConnection, messageID: String, command: String, actor: String, body: [UInt8],
                            apply: () throws -> CommandOutcome) throws -> CommandOutcome {
        try db.transaction {
            let fresh = try db.query(
                """
                insert into processed_commands (message_id, command, actor, body) values ($1, $2, $3, $4::jsonb)
                on conflict (message_id) do nothing returning 1
                """, [messageID, command, actor, String(decoding: body, as: UTF8.self)])
            if fresh.isEmpty {
                let stored = try db.query("select result::text as r from processed_commands where message_id = $1", [messageID])
                return CommandOutcome(reply: stored.first?["r"].flatMap { try? JSONValue.parse(Array($0.utf8)) } ?? .null)
            }
            let outcome: CommandOutcome
            do {
                outcome = try db.transaction { try apply() }
            } catch let e as any CommandRefusal {
                outcome = .refused(e.rejection, deadLetter: e.deadLetter)
            }
            try db.query("update processed_commands set outcome = $2, detail = $3, result = $4::jsonb where message_id = $1",
                         [messageID, outcome.error == nil ? "done" : "rejected", outcome.error?.reason, outcome.reply.jsonString])
            return outcome
        }
    }
}

/// A command the rules refuse: answered as a typed error, and dead-lettered when `deadLetter`.
public protocol CommandRefusal: Error {
    var rejection: InboundRejection { get }
    var deadLetter: Bool { get }
}

extension LeadMerge.MergeError: CommandRefusal {
    public var rejection: InboundRejection { InboundRejection(code: IdentityCommand.rejected, reason: self.description) }
    /// Someone asked for a merge that cannot happen; the dead letter keeps the request for an admin.
    public var deadLetter: Bool { true }
}

extension SalesError: CommandRefusal {
    public var rejection: InboundRejection { InboundRejection(code: RejectionCode(rawValue: self.code), reason: self.message) }
    /// A limit reached or a lead not owned is an answer, not a failed message.
    public var deadLetter: Bool { false }
}

/// Merges, unmerges and review decisions.
public struct IdentityCommands: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    func execute(_ command: IdentityCommand, actor: String) throws -> String {
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

/// What a command came to: a result, or a typed refusal (dead-lettered too when the message itself is
/// at fault or can never succeed).
public struct CommandOutcome: Sendable {
    public var result: JSONValue
    public var error: InboundRejection?
    public var deadLetter: Bool

    public init(result: JSONValue, error: InboundRejection?, deadLetter: Bool) {
        self.result = result
        self.error = error
        self.deadLetter = deadLetter
    }

    public static func ok(_ result: JSONValue) -> CommandOutcome { .init(result: result, error: nil, deadLetter: false) }
    public static func refused(_ error: InboundRejection, deadLetter: Bool) -> CommandOutcome {
        .init(result: .null, error: error, deadLetter: deadLetter)
    }

    /// `{"ok": true, "result": …}` or `{"ok": false, "error": {"code", "message", "field"}}`.
    public var reply: JSONValue {
        guard let e = self.error else { return .object(["ok": .bool(true), "result": self.result]) }
        var error: [String: JSONValue] = ["code": .string(e.code.rawValue), "message": .string(e.reason)]
        if let f = e.field { error["field"] = .string(f) }
        return .object(["ok": .bool(false), "error": .object(error)])
    }

    /// The outcome a stored reply stands for (a redelivered command gets its first answer again).
    init(reply: JSONValue) {
        let o = reply.objectValue ?? [:]
        if o["ok"] == .bool(true) {
            self = .ok(o["result"] ?? .null)
        } else {
            let e = o["error"]?.objectValue ?? [:]
            self = .refused(InboundRejection(code: RejectionCode(rawValue: e["code"]?.stringValue ?? "command_rejected"),
                                             reason: e["message"]?.stringValue ?? "", field: e["field"]?.stringValue),
                            deadLetter: false)
        }
    }
}

/// Applies the commands of one queue.
public protocol CommandHandler: Sendable {
    /// Applies one command, once per message id. Throws only for faults a retry can fix (the database).
    func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome
}

/// Merge, unmerge and review (`identity.*`).
public struct IdentityCommandHandler: CommandHandler {
    public init() {}

    public func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome {
        switch IdentityCommand.decode(e) {
        case .failure(let r):
            return .refused(r, deadLetter: true)
        case .success(let (command, actor)):
            return try ProcessedCommands.once(db, messageID: e.messageID!, command: command.name, actor: actor, body: e.body) {
                .ok(.object(["detail": .string(try IdentityCommands(db: db).execute(command, actor: actor))]))
            }
        }
    }
}

/// Consumes one command queue, one message at a time: applies it through its handler, dead-letters it
/// when the handler says so (and only then acks), and answers `reply_to` with `correlation_id`.
public final class CommandConsumer: Sendable {
    let settings: RapportSettings
    let topology: Topology
    let logger: Logger
    public let queue: String
    let handler: any CommandHandler

    public init(settings: RapportSettings, topology: Topology, logger: Logger, queue: String = "rapport.commands.identity",
                handler: any CommandHandler = IdentityCommandHandler()) {
        self.settings = settings
        self.topology = topology
        self.logger = logger
        self.queue = queue
        self.handler = handler
    }

    public func run(index: Int, stop: StopSignal) {
        var backoff = Backoff(maximum: .milliseconds(self.settings.maxBackoffMilliseconds))
        while !stop.isSet {
            do {
                let conn = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "\(self.queue)-\(index)"))
                defer { conn.close() }
                try TopologyApplier.apply(self.topology, on: conn)
                let publisher = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "\(self.queue)-replies-\(index)"))
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
                self.logger.warning("command consumer reconnecting", metadata: ["queue": "\(self.queue)", "error": "\(String(reflecting: error))"])
                stop.sleep(for: wait)
            }
        }
    }

    func handle(_ d: AMQPDelivery, db: PGConnection, publisher: AMQPConnection) throws {
        let envelope = InboundEnvelope(exchange: d.exchange, routingKey: d.routingKey, messageID: d.properties.messageID,
                                       appID: d.properties.appID, contentType: d.properties.contentType, body: d.body)
        // A database outage throws: the delivery stays unacked and comes back after the reconnect. A
        // command the database refuses for its data (a number out of range) would only fail again, so it
        // is answered and dead-lettered like any other refusal.
        let outcome: CommandOutcome
        do {
            outcome = try self.handler.handle(envelope, db: db)
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
        if outcome.deadLetter, let e = outcome.error {
            try DeadLetters.publish([(d, e)], on: publisher)
        }
        if let replyTo = d.properties.replyTo, !replyTo.isEmpty {
            var p = AMQPProperties(contentType: "application/json", messageID: "reply:\(id)", appID: "rapport", timestamp: Date())
            p.correlationID = d.properties.correlationID ?? d.properties.messageID
            p.type = d.routingKey + ".reply"
            try publisher.publish(exchange: "", routingKey: replyTo, body: Array(outcome.reply.jsonString.utf8), properties: p)
            // A reply that cannot be routed (the caller has gone) is not worth holding the command for.
            _ = try publisher.waitForConfirms(timeout: .seconds(30))
        }
    }
}
