import Foundation
import RapportCore
import RapportDecoding
import RapportPostgres
import RapportStore
import RapportSupport

/// Loads a directory export (CSV or xlsx) into the prospect base, row by row through
/// ``Prospects/upsert(_:source:)``: a company already there (same credit code, or a phone it holds) is
/// updated, not doubled, so importing a file twice changes nothing. A row that does not fit is skipped
/// and reported by file, line and field; the rest go on.
public struct ProspectImport: Sendable {
    public var path: String
    public var source: String
    /// Prospect field → the headers it may have (`connectors/prospects/directory.json`).
    public var columns: [String: [String]]

    public init(path: String, source: String, columns: [String: [String]]) {
        self.path = path
        self.source = source
        self.columns = columns
    }

    /// Reads a mapping file: `{"fields": {"name": ["企业名称", …], …}}`.
    public static func mapping(path: String) throws -> [String: [String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let fields = try JSONValue.parse(Array(data)).objectValue?["fields"]?.objectValue else {
            throw ImportError(.unreadableFile, path: path, reason: "a prospect mapping is {\"fields\": {field: [headers]}}")
        }
        var out: [String: [String]] = [:]
        for (field, headers) in fields {
            guard ProspectRecord.fields.contains(field) else {
                throw ImportError(.unreadableFile, path: path, reason: "no prospect field \(field) (fields: \(ProspectRecord.fields.joined(separator: ", ")))")
            }
            out[field] = headers.arrayValue?.compactMap(\.stringValue) ?? headers.stringValue.map { [$0] } ?? []
        }
        return out
    }

    public struct Report: Sendable {
        public var rows = 0
        public var created = 0
        public var updated = 0
        public var refused: [String: Int] = [:]
        public var firstErrors: [String] = []
    }

    /// Imports every row; `progress(bytes done, bytes total, rows)` every 500 rows.
    public func run(db: PGConnection, progress: (Int64, Int64, Int) -> Void = { _, _, _ in }) throws -> Report {
        let reader = try ImportReader(path: self.path)
        let file = URL(fileURLWithPath: self.path).lastPathComponent
        let header = reader.header.map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"])) }
        var index: [String: Int] = [:]
        for (field, names) in self.columns {
            if let i = names.lazy.compactMap({ header.firstIndex(of: $0) }).first { index[field] = i }
        }
        guard index["name"] != nil else {
            throw ImportError(.unreadableFile, path: self.path, reason: "no column for name (looked for \(self.columns["name"] ?? []))")
        }
        let prospects = Prospects(db: db)
        var report = Report()
        func refuse(_ line: Int, _ code: String, _ message: String) {
            report.refused[code, default: 0] += 1
            if report.firstErrors.count < 10 { report.firstErrors.append("\(file) line \(line): \(message)") }
        }
        while true {
            let row: ImportRow
            do {
                guard let next = try reader.next() else { break }
                row = next
            } catch let e as ImportError where e.isRowError {
                report.rows += 1
                refuse(e.lineNumber ?? 0, "malformed_row", e.reason)
                continue
            }
            report.rows += 1
            var values: [String: JSONValue] = [:]
            for (field, i) in index where i < row.fields.count {
                let v = row.fields[i].trimmingCharacters(in: .whitespacesAndNewlines)
                guard !v.isEmpty, v != "-" else { continue }
                values[field] = field == "phones" || field == "emails"
                    ? .array(v.split(whereSeparator: { ";,/、；，".contains($0) || ($0.isWhitespace && field == "emails") }).map { .string(String($0)) })
                    : .string(v)
            }
            do {
                let r = try prospects.upsert(try ProspectRecord(values), source: self.source)
                if r.created { report.created += 1 } else { report.updated += 1 }
            } catch let e as CustomerError {
                refuse(row.lineNumber, e.code.rawValue, "\(e.field.map { "\($0): " } ?? "")\(e.message)")
            }
            if report.rows % 500 == 0 { progress(reader.bytesConsumed, reader.totalBytes, report.rows) }
        }
        progress(reader.totalBytes, reader.totalBytes, report.rows)
        return report
    }
}
