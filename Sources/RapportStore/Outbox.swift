import Foundation
import RapportPostgres
import RapportSupport

/// The transactional outbox: events are rows written with the change, published after commit.
public enum Outbox {
    /// One event waiting to be published.
    public struct Event: Sendable {
        public var messageID: String?
        public var routingKey: String
        public var payload: String
        /// Where it goes; `nil` for the relay's own exchange (`rapport.events`). An "add as lead" goes to
        /// `rapport.inbound`, so it is ingested exactly when the request committed.
        public var exchange: String?
    }

    /// Inserts events (a JSON array of objects with `message_id`, `routing_key`, `payload` and optionally
    /// `exchange`) in the caller's transaction.
    public static func enqueue(rows: String, on db: PGConnection) throws {
        try db.query(
            """
            insert into outbox (message_id, routing_key, payload, exchange)
            select message_id, routing_key, payload, exchange
            from jsonb_to_recordset($1::jsonb) as x(message_id text, routing_key text, payload jsonb, exchange text)
            """, [rows])
    }

    /// Takes up to `limit` unpublished events (`for update skip locked`, so several relays share the
    /// work), hands them to `publish`, and marks them published when it returns, all in one transaction.
    ///
    /// - Returns: how many events were published.
    public static func relay(limit: Int, on db: PGConnection, publish: ([Event]) throws -> Void) throws -> Int {
        try db.transaction {
            let rows = try db.query(
                """
                select id, message_id, routing_key, payload::text as payload, exchange from outbox
                where published_at is null order by id limit $1 for update skip locked
                """, [limit])
            guard !rows.isEmpty else { return 0 }
            let events = try rows.map { Event(messageID: $0["message_id"], routingKey: try $0.decode("routing_key"), payload: $0["payload"] ?? "{}",
                                              exchange: $0["exchange"]) }
            try publish(events)
            let ids: [Int64] = try rows.map { try $0.decode("id") }
            try db.query("update outbox set published_at = now() where id = any($1::int8[])", [ids])
            return rows.count
        }
    }
}
