import Foundation
import RapportSupport
import RapportAMQP
import RapportPostgres
import RapportRuntime
import RapportStore

/// Publishes committed outbox events to `rapport.events` with confirms, then marks them sent, as a
/// periodic job.
///
/// An event may be published twice if a relay dies between confirm and commit; consumers dedupe on
/// `message_id`.
public struct OutboxRelay: PeriodicJob {
    /// Where events go. Defaults to `rapport.events`.
    public let exchange: String
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: true, publisher: true) }

    public init(exchange: String = "rapport.events") { self.exchange = exchange }

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        guard let publisher = context.publisher else { throw AMQPError(.connectionClosed, replyText: "no publisher") }
        return try self.relayOnce(conn: publisher, db: try context.db) == 0 ? .milliseconds(100) : .zero
    }

    /// Publishes one batch of pending events; returns how many.
    @discardableResult
    public func relayOnce(conn: AMQPConnection, db: PGConnection, limit: Int = 500) throws -> Int {
        try Outbox.relay(limit: limit, on: db) { events in
            for e in events {
                // An event is typed by its routing key and comes from rapport; an inbound message (`inbound.<channel>.<source>`)
                // comes from its source, which names its ledger rows and its connector.
                let source = e.exchange == nil ? "rapport" : e.routingKey.split(separator: ".").dropFirst(2).joined(separator: ".")
                var p = AMQPProperties(contentType: "application/json", messageID: e.messageID, appID: source, timestamp: Date())
                if e.exchange == nil { p.type = e.routingKey }
                try conn.publish(exchange: e.exchange ?? self.exchange, routingKey: e.routingKey, body: Array(e.payload.utf8), properties: p)
            }
            let result = try conn.waitForConfirms()
            guard result.nacked.isEmpty else { throw AMQPError(.nacked, replyText: "outbox events nacked") }
        }
    }
}
