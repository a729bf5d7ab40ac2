import RapportDecoding
import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// Publishes an import file's rows to `inbound.import.<source>`, one message a row.
///
/// Message ids are `<batch>:<line>` where the batch id comes from the file's SHA-256, so importing the
/// same file again publishes the same ids and the ledger turns them into no-ops. Rows that do not fit the
/// mapping, and lines the reader cannot parse, never reach the queue: they go straight to the dead letters
/// naming the file and line. So `rows` = `published` + the dead counts, one per data line.
public struct ImportJob: Sendable {
    public var path: String
    public var source: String
    public var mapping: ChannelMapping
    public var window: Int = 500

    public init(path: String, source: String, mapping: ChannelMapping) {
        self.path = path
        self.source = source
        self.mapping = mapping
    }

    public struct Report: Sendable {
        public var batchID: String
        public var rows = 0
        public var published = 0
        public var dead: [String: Int] = [:]
        public var firstErrors: [String] = []
    }

    /// The batch id of a file: its content hash, read in chunks.
    public static func batchID(path: String) throws -> (id: String, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImportError(.unreadableFile, path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        var hasher = SHA256.Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        let hex = hasher.finalizeHex()
        return ("imp-" + String(hex.prefix(16)), hex)
    }

    /// Reads, validates and publishes every row with confirms; `progress(done bytes, total bytes, rows)`.
    public func run(publisher: AMQPConnection, db: PGConnection?,
                    progress: (Int64, Int64, Int) -> Void = { _, _, _ in }) throws -> Report {
        let (batchID, sha) = try Self.batchID(path: self.path)
        var report = Report(batchID: batchID)
        let reader = try ImportReader(path: self.path)
        let decoder = try MappedDecoder(mapping: self.mapping, configuration: .init(routingChannel: "import"))
        let fileName = URL(fileURLWithPath: self.path).lastPathComponent
        let routingKey = "inbound.import.\(self.source)"
        // The column of the mapping's idempotency key (the upstream's record id), named as the decoder does.
        let keyColumn = self.mapping.idempotencyKey.flatMap { key in
            reader.header.firstIndex { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"])) == key }
        }
        try publisher.enableConfirms()
        if let db {
            try db.query(
                """
                insert into import_batches (id, source, file_name, sha256) values ($1, $2, $3, $4)
                on conflict (id) do update set started_at = now(), finished_at = null
                """, [batchID, self.source, fileName, sha])
        }
        var inWindow = 0
        while let next = try Self.nextRow(reader) {
            report.rows += 1
            let line: Int
            let fields: [String]
            let decoded: Result<DecodedLead, InboundRejection>
            switch next {
            case .success(let row):
                (line, fields) = (row.lineNumber, row.fields)
                decoded = decoder.decodeRow(header: reader.header, row: row.fields, line: line, source: self.source, file: fileName)
            case .failure(let e):
                // A line the reader cannot parse is refused like a row the mapping refuses: dead letter, file and line.
                (line, fields) = (e.lineNumber ?? 0, e.fields ?? [])
                let code: RejectionCode = e.code == .badEncoding ? .badEncoding : .malformedRow
                decoded = .failure(InboundRejection(code: code, reason: "\(fileName) line \(line): \(e.reason)"))
            }
            let messageID = "\(batchID):\(line)"
            var props = AMQPProperties(contentType: "application/json", messageID: messageID, appID: self.source,
                                       timestamp: Date())
            props.headers["x-rapport-import-batch"] = .string(batchID)
            props.headers["x-rapport-import-file"] = .string(fileName)
            props.headers["x-rapport-import-line"] = .int(Int64(line))
            switch decoded {
            case .success(let lead):
                var s = lead.submission
                s.fields["_import_batch"] = .string(batchID)
                s.fields["_import_line"] = .number(Double(line))
                try publisher.publish(exchange: "rapport.inbound", routingKey: routingKey, body: Self.body(s),
                                      properties: props, mandatory: true)
                report.published += 1
            case .failure(let rejection):
                let body = JSONValue.object(Dictionary(zip(reader.header, fields.map(JSONValue.string)),
                                                       uniquingKeysWith: { a, _ in a }))
                var dl = DeadLetters.properties(props, exchange: "rapport.inbound", routingKey: routingKey,
                                                rejection: rejection, attempts: 0, id: messageID)
                // A refused row keeps its upstream key, so the ledger export can name it.
                if let keyColumn, keyColumn < fields.count {
                    let key = fields[keyColumn].trimmingCharacters(in: .whitespacesAndNewlines)
                    if !key.isEmpty { dl.headers[DeadLetterHeader.upstreamKey] = .string(key) }
                }
                try publisher.publish(exchange: DeadLetters.exchange, routingKey: routingKey,
                                      body: Array(body.jsonString.utf8), properties: dl, mandatory: true)
                report.dead[rejection.code.rawValue, default: 0] += 1
                if report.firstErrors.count < 10 { report.firstErrors.append(rejection.reason) }
            }
            inWindow += 1
            if inWindow >= self.window {
                try Self.confirm(publisher)
                inWindow = 0
                progress(reader.bytesConsumed, reader.totalBytes, report.rows)
            }
        }
        try Self.confirm(publisher)
        progress(reader.totalBytes, reader.totalBytes, report.rows)
        if let db {
            try db.query(
                """
                update import_batches set rows_total = $2, rows_published = $3, rows_dead = $4, finished_at = now()
                where id = $1
                """, [batchID, report.rows, report.published, report.dead.values.reduce(0, +)])
        }
        return report
    }

    /// The next row, or the row error for a line the reader cannot decode (bad bytes, broken quoting);
    /// `nil` at the end of the file.
    static func nextRow(_ reader: ImportReader) throws -> Result<ImportRow, ImportError>? {
        do {
            return try reader.next().map { .success($0) }
        } catch let e as ImportError where e.isRowError {
            return .failure(e)
        }
    }

    static func confirm(_ publisher: AMQPConnection) throws {
        let r = try publisher.waitForConfirms(timeout: .seconds(60))
        guard r.allConfirmed else {
            throw AMQPError(.nacked, replyText: "\(r.nacked.count) nacked, \(r.returned.count) unroutable import messages")
        }
    }

    /// The submission as the inbound JSON body the import queue's decoder reads.
    static func body(_ s: LeadSubmission) -> [UInt8] {
        var o: [String: JSONValue] = ["utm": .object(s.utm), "fields": .object(s.fields)]
        if let v = s.name { o["name"] = .string(v) }
        if let v = s.phone { o["phone"] = .string(v) }
        if let v = s.email { o["email"] = .string(v) }
        if let v = s.company { o["company"] = .string(v) }
        if let v = s.address { o["address"] = .string(v) }
        if let v = s.message { o["message"] = .string(v) }
        if let v = s.submittedAt { o["submitted_at"] = .string(ISO8601.string(v)) }
        return Array(JSONValue.object(o).jsonString.utf8)
    }

    /// Created / merged / duplicate / dead counts of a batch, from the ledger and the dead letters.
    public static func status(batchID: String, db: PGConnection) throws -> [(String, Int)] {
        var out: [(String, Int)] = []
        if let b = try db.query("select rows_total, rows_published, rows_dead, file_name, source from import_batches where id = $1", [batchID]).first {
            out.append(("rows in file", try b.decode("rows_total")))
            out.append(("published", try b.decode("rows_published")))
            out.append(("refused at import", try b.decode("rows_dead")))
        }
        for r in try db.query(
            "select outcome, count(*)::int8 as n from inbound_ledger where message_id like $1 group by 1 order by 1",
            [batchID + ":%"]) {
            out.append((try r.decode("outcome"), try r.decode("n")))
        }
        for r in try db.query(
            "select error_code, count(*)::int8 as n from dead_letters where message_id like $1 group by 1 order by 1",
            [batchID + ":%"]) {
            out.append(("dead: " + (try r.decode("error_code", as: String.self)), try r.decode("n")))
        }
        return out
    }
}

extension RejectionCode {
    /// An import line the reader could not parse, e.g. a quote never closed (`malformed_row`).
    static let malformedRow = RejectionCode(rawValue: "malformed_row")
    /// An import line with bytes invalid in the file's encoding (`bad_encoding`).
    static let badEncoding = RejectionCode(rawValue: "bad_encoding")
}
