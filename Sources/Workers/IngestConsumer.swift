import Foundation
import Synchronization
import Logging
import RapportAMQP
import RapportCore
import RapportPostgres

/// Consumes one inbound queue in batches: decode, dead-letter what can never succeed, write the rest in
/// one transaction, then ack the batch with one multiple-ack.
///
/// Nothing is acked before it is either committed or confirmed as a dead letter. A database fault keeps
/// the batch in hand (unacked) and retries with backoff while the broker connection keeps beating.
public final class IngestConsumer: Sendable {
    public struct Options: Sendable {
        public var queue: String
        public var decoder: any InboundDecoder
        public var prefetch: Int
        public var batchSize: Int
        public var batchWait: Duration
        public var maxBackoff: Duration
        public init(queue: String, decoder: any InboundDecoder, prefetch: Int = 1000, batchSize: Int = 500,
                    batchWait: Duration = .milliseconds(5), maxBackoff: Duration = .seconds(5)) {
            self.queue = queue
            self.decoder = decoder
            self.prefetch = max(prefetch, batchSize + 1)
            self.batchSize = batchSize
            self.batchWait = batchWait
            self.maxBackoff = maxBackoff
        }
    }

    let settings: RapportSettings
    let topology: Topology
    let options: Options
    let logger: Logger
    /// What this consumer has done so far.
    public let counters: IngestCounters
    /// Candidate profiles, shared by this consumer's threads (and with other consumers if passed in).
    public let profileCache: ProfileCache

    public init(settings: RapportSettings, topology: Topology, options: Options, logger: Logger,
                counters: IngestCounters = IngestCounters(), profileCache: ProfileCache? = nil) {
        self.profileCache = profileCache ?? ProfileCache(capacity: settings.profileCacheSize)
        self.settings = settings
        self.topology = topology
        self.options = options
        self.logger = logger
        self.counters = counters
    }

    /// Runs until `stop` is set; reconnects with backoff on any broker or database fault.
    public func run(index: Int, stop: StopSignal) {
        var logger = self.logger
        logger[metadataKey: "amqp.queue"] = "\(self.options.queue)"
        logger[metadataKey: "worker"] = "\(index)"
        var backoff = Backoff(maximum: self.options.maxBackoff)
        let cache = self.profileCache
        while !stop.isSet {
            do {
                try self.session(index: index, stop: stop, logger: logger, backoff: &backoff, cache: cache)
            } catch {
                let wait = backoff.next()
                logger.warning("ingest session ended; reconnecting", metadata: [
                    "error": "\(String(reflecting: error))", "backoff": "\(wait)"])
                stop.sleep(for: wait)
            }
        }
        logger.info("ingest consumer stopped")
    }

    private func session(index: Int, stop: StopSignal, logger: Logger, backoff: inout Backoff,
                         cache: ProfileCache) throws {
        let consumer = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-ingest-\(self.options.queue)-\(index)"))
        defer { consumer.close() }
        let publisher = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-ingest-publish-\(index)"))
        defer { publisher.close() }
        try TopologyApplier.apply(self.topology, on: consumer)
        try publisher.enableConfirms()
        var db: PGConnection? = try? PGConnection(self.settings.postgresURL)
        defer { db?.close() }
        try consumer.setPrefetch(self.options.prefetch)
        let tag = try consumer.consume(queue: self.options.queue)
        logger.info("consuming", metadata: ["amqp.consumer_tag": "\(tag)"])
        backoff.reset()

        var pending: [AMQPDelivery] = []  // delivered while a batch was held back
        while !stop.isSet {
            var batch = pending
            pending.removeAll()
            if batch.isEmpty {
                guard let first = try consumer.nextDelivery(timeout: .milliseconds(250)) else {
                    try publisher.pump()
                    continue
                }
                batch.append(first)
            }
            let deadline = ContinuousClock.now + self.options.batchWait
            while batch.count < self.options.batchSize {
                let left = deadline - ContinuousClock.now
                if left <= .zero { break }
                guard let d = try consumer.nextDelivery(timeout: left) else { break }
                batch.append(d)
            }
            try self.process(batch, consumer: consumer, publisher: publisher, db: &db, pending: &pending,
                             stop: stop, logger: logger, cache: cache)
            // Under steady load the idle branch above never runs; the publisher must still beat.
            try publisher.pump()
        }
        // Graceful stop: the batch in hand was committed and acked above; let the broker requeue the rest.
        try? consumer.cancel(consumerTag: tag)
    }

    private func process(_ batch: [AMQPDelivery], consumer: AMQPConnection, publisher: AMQPConnection,
                         db: inout PGConnection?, pending: inout [AMQPDelivery], stop: StopSignal,
                         logger: Logger, cache: ProfileCache) throws {
        let started = ContinuousClock.now
        var accepted: [LeadSubmission] = []
        var acceptedDeliveries: [AMQPDelivery] = []
        var rejected: [(AMQPDelivery, InboundRejection)] = []
        for d in batch {
            var envelope = InboundEnvelope(
                exchange: d.exchange, routingKey: d.routingKey, messageID: d.properties.messageID,
                appID: d.properties.appID, contentType: d.properties.contentType,
                timestamp: d.properties.timestamp, body: d.body)
            envelope.type = d.properties.type
            switch self.options.decoder.decode(envelope) {
            case .success(let s):
                accepted.append(s)
                acceptedDeliveries.append(d)
            case .failure(let r):
                rejected.append((d, r))
            }
        }

        // Write; on a transient fault hold the batch and keep the broker connection alive meanwhile.
        var backoff = Backoff(maximum: self.options.maxBackoff)
        var plan: LeadPlan?
        while plan == nil {
            do {
                if db == nil || !(db!.isConnected) {
                    db?.close()
                    db = try PGConnection(self.settings.postgresURL)
                }
                var store = LeadStore(connection: db!, profileCache: cache)
                store.fuzzy = self.settings.matching != "exact"
                plan = try store.ingest(accepted)
            } catch let e as PGError where !e.isTransient {
                // Something in this batch the database refuses: find it record by record.
                logger.warning("batch refused; retrying one by one", metadata: ["pg.sqlstate": "\(e.sqlState ?? "")"])
                let (p, refused) = try self.ingestOneByOne(accepted, deliveries: acceptedDeliveries, db: db!)
                rejected.append(contentsOf: refused)
                plan = p
            } catch {
                let wait = backoff.next()
                logger.warning("database unavailable; holding batch", metadata: [
                    "error": "\(String(reflecting: error))", "batch": "\(batch.count)"])
                let until = ContinuousClock.now + wait
                while ContinuousClock.now < until {
                    // Keep heartbeats flowing; buffer deliveries that arrive meanwhile (bounded by prefetch).
                    if let d = try consumer.nextDelivery(timeout: min(until - ContinuousClock.now, .milliseconds(200))) {
                        pending.append(d)
                    }
                    try publisher.pump()
                }
                if stop.isSet {
                    // Shutting down without a database: leave the batch unacked for the next worker.
                    throw CancellationError()
                }
            }
        }

        try DeadLetters.publish(rejected, on: publisher)
        if let last = batch.map(\.deliveryTag).max() {
            try consumer.ack(last, multiple: true)
        }
        self.counters.record(plan: plan!, deadLettered: rejected)
        Telemetry.ingest(plan!, channel: String(self.options.queue.split(separator: ".").last ?? ""), deadLettered: rejected.map(\.1),
                         batchDuration: ContinuousClock.now - started)
    }

    private func ingestOneByOne(_ subs: [LeadSubmission], deliveries: [AMQPDelivery],
                                db: PGConnection) throws -> (LeadPlan, [(AMQPDelivery, InboundRejection)]) {
        var merged = LeadPlan()
        var refused: [(AMQPDelivery, InboundRejection)] = []
        for (s, d) in zip(subs, deliveries) {
            do {
                var store = LeadStore(connection: db)
                store.fuzzy = self.settings.matching != "exact"
                let p = try store.ingest([s])
                merged.decisions.append(contentsOf: p.decisions)
            } catch let e as PGError where !e.isTransient {
                refused.append((d, InboundRejection(
                    code: .storageRejected,
                    reason: "The database refused the record: \(e.message) (SQLSTATE \(e.sqlState ?? "?")).")))
            }
        }
        return (merged, refused)
    }
}

/// Running totals of what the ingest consumers did, for logs, `/metrics` and tests.
public final class IngestCounters: Sendable {
    private let state = Mutex<[String: Int]>([:])

    public init() {}

    func record(plan: LeadPlan, deadLettered: [(AMQPDelivery, InboundRejection)]) {
        self.state.withLock { s in
            for d in plan.decisions { s[d.outcome.rawValue, default: 0] += 1 }
            for (_, r) in deadLettered { s["dead_letter." + r.code.rawValue, default: 0] += 1 }
            s["batches", default: 0] += 1
        }
    }

    /// A copy of the counters.
    public var snapshot: [String: Int] { self.state.withLock { $0 } }
}
