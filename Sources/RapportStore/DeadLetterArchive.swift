import Foundation
import RapportPostgres
import RapportSupport

/// The `dead_letters` table: every dead letter, durable and searchable.
public enum DeadLetterArchive {
    /// Stores archive rows (built by the runtime's `DeadLetters.archiveRow`); a row seen before (same
    /// dedupe key) is skipped.
    ///
    /// With a keyring, each body (the raw message, personal fields and all) is sealed under a data key of
    /// its own, bound to its dedupe key.
    public static func store(_ rows: [JSONValue], on db: PGConnection, keyring: Keyring? = nil) throws {
        guard !rows.isEmpty else { return }
        var rows = rows
        if let keyring {
            let ids = rows.map { _ in UUID() }
            let keys = try keyring.dataKeys(ids, create: true, db: db)
            for (i, id) in ids.enumerated() {
                guard case .object(var o) = rows[i], let key = keys[id], let dedupe = o["dedupe_key"]?.stringValue,
                      let body = o["body_hex"]?.stringValue.flatMap(Hex.decode) else { continue }
                o["body_hex"] = .string(Hex.encode(keyring.seal(body, key: key, table: Self.table, column: "body", row: dedupe, keyID: id)))
                o["body_key"] = .string(id.uuidString.lowercased())
                rows[i] = .object(o)
            }
        }
        try db.query(
            """
            insert into dead_letters (dedupe_key, message_id, source, error_code, error, original_exchange,
                                      original_routing_key, failed_at, attempts, replayed_from, headers,
                                      properties, body, body_key)
            select dedupe_key, message_id, source, error_code, error, original_exchange, original_routing_key,
                   failed_at, attempts, replayed_from, headers, properties, decode(body_hex, 'hex'), body_key
            from jsonb_to_recordset($1::jsonb) as x(dedupe_key text, message_id text, source text,
                 error_code text, error text, original_exchange text, original_routing_key text,
                 failed_at timestamptz, attempts int, replayed_from bigint, headers jsonb, properties jsonb,
                 body_hex text, body_key uuid)
            on conflict (dedupe_key) do nothing
            """, [JSONValue.array(rows).jsonString])
    }

    static let table = "dead_letters"

    /// A stored body, opened when it is sealed; `nil` when its key is gone (destroyed) or no keyring is given.
    public static func body(stored: [UInt8], keyID: UUID?, dedupeKey: String, keyring: Keyring?, db: PGConnection) throws -> [UInt8]? {
        guard let keyID else { return stored }
        guard let keyring, let key = try keyring.dataKeys([keyID], create: false, db: db)[keyID] else { return nil }
        return try keyring.open(stored, key: key, table: Self.table, column: "body", row: dedupeKey, keyID: keyID)
    }
}
