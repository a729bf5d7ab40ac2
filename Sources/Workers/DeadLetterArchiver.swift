import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportPostgres

/// Moves everything from `rapport.dead` into the `dead_letters` table, acking only after commit.
///
/// The queue is a buffer, not the archive: in PostgreSQL dead letters are durable, searchable and never
/// capped. A redelivered dead letter is stored once (its dedupe key).
public final class DeadLetterArchiver: Sendable {
    let settings: RapportSettings
    let topology: Topology
    let logger: Logger
    public let queue: String
    let batchSize: Int

    public init(settings: RapportSettings, topology: Topology, logger: Logger, queue: String = "rapport.dead",
                batchSize: Int = 200) {
        self.settings = settings
        self.topology = topology
        self.logger = logger
        self.queue = queue
        self.batchSize = batchSize
    }

    public func run(index: Int, stop: StopSignal) {
        var backoff = Backoff(maximum: .milliseconds(self.settings.maxBackoffMilliseconds))
        while !stop.isSet {
            do {
                let conn = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-dlq-archiver-\(index)"))
                defer { conn.close() }
                try TopologyApplier.apply(self.topology, on: conn)
                let db = try PGConnection(self.settings.postgresURL)
                defer { db.close() }
                try conn.setPrefetch(self.batchSize * 2)
                let tag = try conn.consume(queue: self.queue)
                backoff.reset()
                while !stop.isSet {
                    guard let first = try conn.nextDelivery(timeout: .milliseconds(250)) else { continue }
                    var batch = [first]
                    while batch.count < self.batchSize, let d = try conn.nextDelivery(timeout: .milliseconds(10)) {
                        batch.append(d)
                    }
                    try db.transaction { try DeadLetters.archive(batch.map(DeadLetters.archiveRow), on: db) }
                    try conn.ack(batch.last!.deliveryTag, multiple: true)
                    self.logger.info("archived dead letters", metadata: ["count": "\(batch.count)"])
                }
                try? conn.cancel(consumerTag: tag)
            } catch {
                let wait = backoff.next()
                self.logger.warning("dead-letter archiver reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                stop.sleep(for: wait)
            }
        }
    }
}

/// Publishes committed outbox events to `rapport.events` with confirms, then marks them sent.
///
/// Rows are locked with `skip locked`, so several relays share the work. An event may be published twice
/// if a relay dies between confirm and commit; consumers dedupe on `message_id`.
public final class OutboxRelay: Sendable {
    let settings: RapportSettings
    let logger: Logger
    public let exchange: String

    public init(settings: RapportSettings, logger: Logger, exchange: String = "rapport.events") {
        self.settings = settings
        self.logger = logger
        self.exchange = exchange
    }

    public func run(index: Int, stop: StopSignal) {
        var backoff = Backoff(maximum: .milliseconds(self.settings.maxBackoffMilliseconds))
        while !stop.isSet {
            do {
                let conn = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-outbox-\(index)"))
                defer { conn.close() }
                try conn.enableConfirms()
                let db = try PGConnection(self.settings.postgresURL)
                defer { db.close() }
                backoff.reset()
                while !stop.isSet {
                    let sent = try self.relayOnce(conn: conn, db: db)
                    if sent == 0 {
                        try conn.pump()
                        stop.sleep(for: .milliseconds(100))
                    }
                }
            } catch {
                let wait = backoff.next()
                self.logger.warning("outbox relay reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                stop.sleep(for: wait)
            }
        }
    }

    /// Publishes one batch of pending events; returns how many.
    @discardableResult
    public func relayOnce(conn: AMQPConnection, db: PGConnection, limit: Int = 500) throws -> Int {
        try db.transaction {
            let rows = try db.query(
                """
                select id, message_id, routing_key, payload::text as payload from outbox
                where published_at is null order by id limit $1 for update skip locked
                """, [limit])
            guard !rows.isEmpty else { return 0 }
            for row in rows {
                var p = AMQPProperties(contentType: "application/json", messageID: row["message_id"],
                                       appID: "rapport", timestamp: Date())
                p.type = row["routing_key"]
                try conn.publish(exchange: self.exchange, routingKey: try row.decode("routing_key"),
                                 body: Array((row["payload"] ?? "{}").utf8), properties: p)
            }
            let result = try conn.waitForConfirms()
            guard result.nacked.isEmpty else { throw AMQPError(.nacked, replyText: "outbox events nacked") }
            try db.query("update outbox set published_at = now() where id = any($1::int8[])",
                         [rows.map { Int64($0["id"] ?? "0") ?? 0 }])
            return rows.count
        }
    }
}
