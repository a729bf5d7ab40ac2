import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// What a ``QueueConsumer`` hands each batch to: ingest, commands, the dead-letter archiver…
public protocol DeliveryHandler: Sendable {
    /// Applies a batch with a live database connection.
    ///
    /// - Returns: what to dead-letter and what to publish before the batch is acked.
    /// - Throws: only for faults a retry can fix (the database went away); the consumer then holds the
    ///   batch, waits with backoff and calls again. Anything else thrown with the database still up ends
    ///   the session: the broker redelivers the batch and, past the queue's delivery limit, dead-letters it.
    func handle(_ batch: [AMQPDelivery], database: PGConnection) throws -> DeliveryOutcome
}

/// What became of a batch besides the database writes.
public struct DeliveryOutcome: Sendable {
    /// Deliveries to dead-letter with why; published with confirms before the batch is acked.
    public var deadLetters: [(delivery: AMQPDelivery, rejection: InboundRejection)]
    /// Replies to publish after the dead letters (confirmed; one the broker cannot route is dropped).
    public var replies: [OutgoingMessage]
    /// Runs once the batch is acked (counters, metrics).
    public var afterAck: (@Sendable () -> Void)?

    public init(deadLetters: [(delivery: AMQPDelivery, rejection: InboundRejection)] = [], replies: [OutgoingMessage] = [],
                afterAck: (@Sendable () -> Void)? = nil) {
        self.deadLetters = deadLetters
        self.replies = replies
        self.afterAck = afterAck
    }
}

/// A message to publish.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties

    public init(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
    }
}
