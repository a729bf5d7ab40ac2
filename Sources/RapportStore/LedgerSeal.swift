import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// How a submission's personal fields are kept in the ledger when encryption is on: one sealed JSON object
/// (name, phone, email, address, message and the custom fields) under the lead's data key, bound to the
/// row's source and message id. Company, channel, UTM and the upstream's own lead id stay readable for
/// reports and the ledger export.
enum LedgerSeal {
    static let table = "inbound_ledger"
    static let column = "sealed"

    static func row(source: String, messageID: String) -> String { "\(source)\u{1f}\(messageID)" }

    /// The personal part of `s`, as sealed.
    static func payload(of s: LeadSubmission) -> [UInt8] {
        var object: [String: JSONValue] = ["fields": .object(s.fields)]
        for (k, v) in [("name", s.name), ("phone", s.phone), ("email", s.email), ("address", s.address), ("message", s.message)] {
            if let v { object[k] = .string(v) }
        }
        return Array(JSONValue.object(object).jsonString.utf8)
    }

    /// What stays readable of the custom fields: only the upstream's lead id.
    static func readableFields(of s: LeadSubmission) -> [String: JSONValue] {
        s.fields.filter { $0.key == LeadSubmission.platformLeadIDKey }
    }

    /// The sealed personal fields of ledger rows (columns `source`, `message_id`, `sealed`, `sealed_key`),
    /// opened, by row index; rows whose key was erased, or plaintext rows, are absent.
    static func open(_ rows: PGResult, keyring: Keyring?, db: PGConnection) throws -> [Int: [String: JSONValue]] {
        guard let keyring else { return [:] }
        var keyIDs = Set<UUID>()
        for row in rows where row["sealed_key"] != nil { keyIDs.insert(try row.decode("sealed_key")) }
        guard !keyIDs.isEmpty else { return [:] }
        let keys = try keyring.dataKeys(keyIDs, create: false, db: db)
        var out: [Int: [String: JSONValue]] = [:]
        for (i, row) in rows.enumerated() {
            guard row["sealed_key"] != nil else { continue }
            let keyID: UUID = try row.decode("sealed_key")
            guard let key = keys[keyID] else { continue }
            let sealed = Array(try row.decode("sealed", as: Data.self))
            let plain = try keyring.open(sealed, key: key, table: Self.table, column: Self.column,
                                         row: Self.row(source: try row.decode("source"), messageID: try row.decode("message_id")), keyID: keyID)
            out[i] = try JSONValue.parse(plain).objectValue ?? [:]
        }
        return out
    }

    /// The columns ``person(_:opened:id:)`` reads, after `select` on `inbound_ledger`.
    static let personColumns = """
        lead_id, name, phone, email, company, address, fields->>'birth_date' as birth_date,
        fields->>'national_id' as national_id, source, message_id, sealed, sealed_key
        """

    /// The person a ledger row describes, as matching compares it: from its opened payload when sealed
    /// (company stays plain), else from its plaintext columns (``personColumns``).
    static func person(_ row: PGRow, opened: [String: JSONValue]?, id: String) -> PersonRecord {
        func value(_ k: String) -> String? { opened.map { $0[k]?.stringValue } ?? row[k] }
        func field(_ k: String) -> String? { opened.map { $0["fields"]?.objectValue?[k]?.stringValue } ?? row[k] }
        return PersonRecord(id: id, name: value("name"), phone: value("phone"), email: value("email"), company: row["company"],
                            address: value("address"), birthDate: field("birth_date"), nationalID: field("national_id"))
    }
}
