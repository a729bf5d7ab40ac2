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
            let session = try Session(consumer: self, index: index, stop: stop, logger: logger)
            defer { session.close() }
            backoff.reset()
            try session.run()
        }
        logger.info("consumer stopped")
    }
}

/// One connection's worth of consuming: the two broker connections, the database connection and what
/// was delivered while a batch was held back. Ends with a throw on any broker fault.
private final class Session<Handler: DeliveryHandler> {
    let consumer: QueueConsumer<Handler>
    let configuration: QueueConsumer<Handler>.Configuration
    let stop: StopSignal
    let logger: Logger
    let input: AMQPConnection
    let publisher: AMQPConnection
    let consumerTag: String
    /// Connected lazily: an outage is waited out with the batch in hand.
    var db: PGConnection?
    /// Delivered while a batch was held back; the next batch starts with them.
    var pending: [AMQPDelivery] = []

    /// Connects, applies the topology and starts consuming.
    init(consumer: QueueConsumer<Handler>, index: Int, stop: StopSignal, logger: Logger) throws {
        let c = consumer.configuration
        self.consumer = consumer
        self.configuration = c
        self.stop = stop
        self.logger = logger
        self.input = try c.connections.broker(name: "\(c.connectionName)-\(index)")
        do {
            self.publisher = try c.connections.broker(name: "\(c.publisherConnectionName)-\(index)")
        } catch {
            self.input.close()
            throw error
        }
        do {
            if let topology = c.topology { try TopologyApplier.apply(topology, on: self.input) }
            try self.publisher.enableConfirms()
            try self.input.setPrefetch(c.prefetch)
            self.consumerTag = try self.input.consume(queue: c.queue)
        } catch {
            self.input.close()
            self.publisher.close()
            throw error
        }
        self.db = try? c.connections.database()
        logger.info("consuming", metadata: ["amqp.consumer_tag": "\(self.consumerTag)"])
    }

    func close() {
        self.db?.close()
        self.publisher.close()
        self.input.close()
    }

    func run() throws {
        while !self.stop.isSet {
            if let batch = try self.nextBatch() { try self.process(batch) }
            // Under steady load the idle path never runs; the publisher must still beat.
            try self.publisher.pump()
        }
        // Graceful stop: the batch in hand was committed and acked; the broker requeues the rest.
        try? self.input.cancel(consumerTag: self.consumerTag)
    }

    /// What was held back, else up to `batchSize` deliveries within `batchWait` of the first; `nil` when
    /// nothing came within 250 ms (so the caller can look at the stop signal and beat).
    private func nextBatch() throws -> [AMQPDelivery]? {
        var batch = self.pending
        self.pending.removeAll()
        if batch.isEmpty {
            guard let first = try self.input.nextDelivery(timeout: .milliseconds(250)) else { return nil }
            batch.append(first)
        }
        let deadline = ContinuousClock.now + self.configuration.batchWait
        while batch.count < self.configuration.batchSize {
            let left = deadline - ContinuousClock.now
            if left <= .zero { break }
            guard let d = try self.input.nextDelivery(timeout: left) else { break }
            batch.append(d)
        }
        return batch
    }

    private func process(_ batch: [AMQPDelivery]) throws {
        let c = self.configuration
        var backoff = Backoff(maximum: c.maxBackoff)
        var outcome: DeliveryOutcome?
        while outcome == nil {
            do {
                outcome = try self.consumer.handler.handle(batch, database: try self.database())
            } catch let e as AMQPError {
                throw e
            } catch {
                guard Self.isDatabaseFault(error, self.db) else { throw error }
                let wait = backoff.next()
                var metadata = ServerFault(error, connections: c.connections).metadata
                metadata["batch"] = "\(batch.count)"
                metadata["backoff"] = "\(wait)"
                self.logger.warning("database unavailable; holding batch", metadata: metadata)
                try self.beat(for: wait)
                // Shutting down without a database: leave the batch unacked for the next worker.
                if self.stop.isSet { throw CancellationError() }
            }
        }
        guard let outcome else { return }
        try DeadLetters.publish(outcome.deadLetters, on: self.publisher)
        if !outcome.replies.isEmpty {
            for r in outcome.replies {
                try self.publisher.publish(exchange: r.exchange, routingKey: r.routingKey, body: r.body, properties: r.properties)
            }
            // A reply that cannot be routed (the caller has gone) is not worth holding the batch for.
            _ = try self.publisher.waitForConfirms(timeout: .seconds(30))
        }
        if let last = batch.map(\.deliveryTag).max() {
            try self.input.ack(last, multiple: true)
        }
        outcome.afterAck?()
    }

    /// The database connection, (re)connected if it is missing or broken.
    private func database() throws -> PGConnection {
        if let db = self.db, db.isConnected { return db }
        self.db?.close()
        self.db = nil
        let db = try self.configuration.connections.database()
        self.db = db
        return db
    }

    /// Waits `duration` while keeping both connections' heartbeats going, holding what arrives meanwhile
    /// (bounded by the prefetch).
    private func beat(for duration: Duration) throws {
        let until = ContinuousClock.now + duration
        while ContinuousClock.now < until {
            if let d = try self.input.nextDelivery(timeout: min(until - ContinuousClock.now, .milliseconds(200))) {
                self.pending.append(d)
            }
            try self.publisher.pump()
        }
    }

    /// Faults a wait can fix: the database is unreachable, restarting, or the transaction lost a race.
    private static func isDatabaseFault(_ error: any Error, _ db: PGConnection?) -> Bool {
        if let e = error as? PGError, e.isTransient { return true }
        return db == nil || db?.isConnected == false
    }
}
