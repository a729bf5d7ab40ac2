import Foundation
import RapportSupport
import Logging
import RapportAMQP
import RapportPostgres

/// The one queue-consumer engine: connect, apply the topology, prefetch, gather a batch, hand it to a
/// ``DeliveryHandler`` with a database connection, dead-letter with confirms, ack after commit, keep the
/// heartbeats going, reconnect with backoff, and stop gracefully.
///
/// Nothing is acked before it is committed or confirmed as a dead letter. A database outage keeps the
/// batch in hand (unacked) and retries it with backoff while both broker connections keep beating.
public struct QueueConsumer<Handler: DeliveryHandler>: WorkerLoop {
    public struct Configuration: Sendable {
        /// The queue to consume.
        public var queue: String
        /// Broker and database.
        public var connections: ServerConnections
        /// Declared on every (re)connect, so a consumer never waits on a queue nobody declared. Defaults to none.
        public var topology: Topology?
        /// Unacknowledged deliveries; at least `batchSize + 1`. Defaults to `1000`.
        public var prefetch: Int
        /// Deliveries per batch. Defaults to `500`.
        public var batchSize: Int
        /// How long a partly filled batch waits for more. Defaults to `5` ms.
        public var batchWait: Duration
        /// Longest wait between attempts. Defaults to `5` s.
        public var maxBackoff: Duration
        /// Prefix of the consuming connection's name in the management UI. Defaults to the queue name.
        public var connectionName: String
        /// Prefix of the publishing connection's name. Defaults to `<connectionName>-publish`.
        public var publisherConnectionName: String

        public init(queue: String, connections: ServerConnections, topology: Topology? = nil, prefetch: Int = 1000,
                    batchSize: Int = 500, batchWait: Duration = .milliseconds(5), maxBackoff: Duration = .seconds(5),
                    connectionName: String? = nil, publisherConnectionName: String? = nil) {
            self.queue = queue
            self.connections = connections
            self.topology = topology
            self.prefetch = max(prefetch, batchSize + 1)
            self.batchSize = batchSize
            self.batchWait = batchWait
            self.maxBackoff = maxBackoff
            self.connectionName = connectionName ?? queue
            self.publisherConnectionName = publisherConnectionName ?? (connectionName ?? queue) + "-publish"
        }
    }

    public let configuration: Configuration
    public let handler: Handler
    let logger: Logger

    public init(configuration: Configuration, handler: Handler, logger: Logger) {
        self.configuration = configuration
        self.handler = handler
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(configuration.queue)"
        self.logger = logger
    }

    public func run(index: Int, stop: StopSignal) {
        var logger = self.logger
        logger[metadataKey: "worker"] = "\(index)"
        let supervisor = Supervisor(name: self.configuration.connectionName, logger: logger,
                                    connections: self.configuration.connections, maxBackoff: self.configuration.maxBackoff)
        supervisor.run(stop: stop) { backoff in
            try Session(consumer: self, index: index, stop: stop, logger: logger).run(backoff: &backoff)
        }
        logger.info("consumer stopped")
    }
}

/// One connection's worth of consuming; ends with a throw on any broker fault.
private struct Session<Handler: DeliveryHandler> {
    let consumer: QueueConsumer<Handler>
    let index: Int
    let stop: StopSignal
    let logger: Logger
    var configuration: QueueConsumer<Handler>.Configuration { self.consumer.configuration }

    func run(backoff: inout Backoff) throws {
        let c = self.configuration
        let input = try c.connections.broker(name: "\(c.connectionName)-\(self.index)")
        defer { input.close() }
        let publisher = try c.connections.broker(name: "\(c.publisherConnectionName)-\(self.index)")
        defer { publisher.close() }
        if let topology = c.topology { try TopologyApplier.apply(topology, on: input) }
        try publisher.enableConfirms()
        try input.setPrefetch(c.prefetch)
        let tag = try input.consume(queue: c.queue)
        self.logger.info("consuming", metadata: ["amqp.consumer_tag": "\(tag)"])
        backoff.reset()

        // The database is connected lazily: an outage is waited out with the batch in hand.
        var db: PGConnection? = try? c.connections.database()
        defer { db?.close() }
        var pending: [AMQPDelivery] = []  // delivered while a batch was held back
        while !self.stop.isSet {
            var batch = pending
            pending.removeAll()
            if batch.isEmpty {
                guard let first = try input.nextDelivery(timeout: .milliseconds(250)) else {
                    try publisher.pump()
                    continue
                }
                batch.append(first)
            }
            let deadline = ContinuousClock.now + c.batchWait
            while batch.count < c.batchSize {
                let left = deadline - ContinuousClock.now
                if left <= .zero { break }
                guard let d = try input.nextDelivery(timeout: left) else { break }
                batch.append(d)
            }
            try self.process(batch, input: input, publisher: publisher, db: &db, pending: &pending)
            // Under steady load the idle branch above never runs; the publisher must still beat.
            try publisher.pump()
        }
        // Graceful stop: the batch in hand was committed and acked; the broker requeues the rest.
        try? input.cancel(consumerTag: tag)
    }

    private func process(_ batch: [AMQPDelivery], input: AMQPConnection, publisher: AMQPConnection,
                         db: inout PGConnection?, pending: inout [AMQPDelivery]) throws {
        let c = self.configuration
        var backoff = Backoff(maximum: c.maxBackoff)
        var outcome: DeliveryOutcome?
        while outcome == nil {
            do {
                if db == nil || db?.isConnected == false {
                    db?.close()
                    db = nil
                    db = try c.connections.database()
                }
                guard let connection = db else { continue }
                outcome = try self.consumer.handler.handle(batch, database: connection)
            } catch let e as AMQPError {
                throw e
            } catch {
                guard Self.isDatabaseFault(error, db) else { throw error }
                let wait = backoff.next()
                var metadata = ServerFault(error, connections: c.connections).metadata
                metadata["batch"] = "\(batch.count)"
                metadata["backoff"] = "\(wait)"
                self.logger.warning("database unavailable; holding batch", metadata: metadata)
                let until = ContinuousClock.now + wait
                while ContinuousClock.now < until {
                    // Keep heartbeats flowing; buffer what arrives meanwhile (bounded by prefetch).
                    if let d = try input.nextDelivery(timeout: min(until - ContinuousClock.now, .milliseconds(200))) {
                        pending.append(d)
                    }
                    try publisher.pump()
                }
                // Shutting down without a database: leave the batch unacked for the next worker.
                if self.stop.isSet { throw CancellationError() }
            }
        }
        guard let outcome else { return }
        try DeadLetters.publish(outcome.deadLetters.map { ($0.delivery, $0.rejection) }, on: publisher)
        if !outcome.replies.isEmpty {
            for r in outcome.replies {
                try publisher.publish(exchange: r.exchange, routingKey: r.routingKey, body: r.body, properties: r.properties)
            }
            // A reply that cannot be routed (the caller has gone) is not worth holding the batch for.
            _ = try publisher.waitForConfirms(timeout: .seconds(30))
        }
        if let last = batch.map(\.deliveryTag).max() {
            try input.ack(last, multiple: true)
        }
        outcome.afterAck?()
    }

    /// Faults a wait can fix: the database is unreachable, restarting, or the transaction lost a race.
    private static func isDatabaseFault(_ error: any Error, _ db: PGConnection?) -> Bool {
        if let e = error as? PGError, e.isTransient { return true }
        return db == nil || db?.isConnected == false
    }
}
