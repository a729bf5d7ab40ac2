import Foundation
import RapportPostgres
import RapportSupport

/// The `dead_letters` table: every dead letter, durable and searchable.
public enum DeadLetterArchive {
    /// Stores archive rows (built by the runtime's `DeadLetters.archiveRow`); a row seen before (same
    /// dedupe key) is skipped.
    public static func store(_ rows: [JSONValue], on db: PGConnection) throws {
        guard !rows.isEmpty else { return }
        try db.query(
            """
            insert into dead_letters (dedupe_key, message_id, source, error_code, error, original_exchange,
                                      original_routing_key, failed_at, attempts, replayed_from, headers,
                                      properties, body)
            select dedupe_key, message_id, source, error_code, error, original_exchange, original_routing_key,
                   failed_at, attempts, replayed_from, headers, properties, decode(body_hex, 'hex')
            from jsonb_to_recordset($1::jsonb) as x(dedupe_key text, message_id text, source text,
                 error_code text, error text, original_exchange text, original_routing_key text,
                 failed_at timestamptz, attempts int, replayed_from bigint, headers jsonb, properties jsonb,
                 body_hex text)
            on conflict (dedupe_key) do nothing
            """, [JSONValue.array(rows).jsonString])
    }
}
