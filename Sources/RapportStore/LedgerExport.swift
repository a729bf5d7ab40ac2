import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Every inbound message accounted for: one row per ledger entry (created, merged) and per dead letter.
///
/// `upstream_key` is the upstream's own record key, so it can join the export back to its records: the
/// mapping's idempotency key cell of an imported row (e.g. a CRM export's `rec_id`) or an ad platform's lead
/// id. The ledger has it in `fields._platform_lead_id`; a dead letter in its `x-rapport-upstream-key`
/// header when the refusing side knew it (import rows, records the database refused), else it is empty.
/// It comes last so that readers of the older columns by position are unaffected.
public enum LedgerExport {
    public enum Format: String, Sendable { case csv, json }

    /// The dead-letter header with the upstream key (the runtime's `DeadLetterHeader.upstreamKey`).
    static let upstreamKeyHeader = "x-rapport-upstream-key"

    static let columns = ["source", "message_id", "outcome", "lead_id", "customer_id", "score", "reasons", "error_code", "at",
                          "upstream_key"]

    /// Streams the export through a server-side cursor (bounded memory), calling `write` with each chunk of
    /// text; returns the number of rows.
    @discardableResult
    public static func run(db: PGConnection, since: Date?, format: Format, batch: Int = 5000,
                           write: (String) throws -> Void) throws -> Int {
        var count = 0
        try db.transaction {
            try db.query(
                """
                declare ledger_export no scroll cursor for
                select source, message_id, outcome, lead_id::text, customer_id::text, score::text,
                       reasons::text as reasons, null::text as error_code, processed_at as at,
                       fields ->> '\(LeadSubmission.platformLeadIDKey)' as upstream_key
                from inbound_ledger where $1::timestamptz is null or processed_at >= $1
                union all
                select coalesce(source, ''), coalesce(message_id, ''), 'dead_letter', null, null, null, null,
                       error_code, archived_at, headers ->> '\(Self.upstreamKeyHeader)'
                from dead_letters where $1::timestamptz is null or archived_at >= $1
                order by at
                """, [since])
            if format == .csv { try write(Self.columns.joined(separator: ",") + "\n") }
            while true {
                let rows = try db.query("fetch \(batch) from ledger_export")
                if rows.isEmpty { break }
                var out = ""
                for r in rows {
                    let values = Self.columns.map { r[$0] }
                    switch format {
                    case .csv:
                        out += values.map { Self.csvField($0 ?? "") }.joined(separator: ",") + "\n"
                    case .json:
                        var o: [String: JSONValue] = [:]
                        for (k, v) in zip(Self.columns, values) {
                            guard let v else { continue }
                            if k == "reasons", let parsed = try? JSONValue.parse(Array(v.utf8)) { o[k] = parsed }
                            else if k == "score", let d = Double(v) { o[k] = .number(d) }
                            else { o[k] = .string(v) }
                        }
                        out += JSONValue.object(o).jsonString + "\n"
                    }
                }
                try write(out)
                count += rows.count
            }
            try db.execute("close ledger_export")
        }
        return count
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
