import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// What admins do with archived dead letters: list, show, replay, purge. Every change leaves an audit row.
public struct DeadLetterAdmin: Sendable {
    public let db: PGConnection

    /// Opens sealed bodies (`nil`: they cannot be shown or replayed).
    public let keyring: Keyring?

    public init(db: PGConnection, keyring: Keyring? = nil) {
        self.db = db
        self.keyring = keyring
    }

    /// Which dead letters an operation covers.
    public struct Selection: Sendable {
        public var ids: [Int64] = []
        public var reason: String?
        public var source: String?
        public var since: Date?
        public var all = false
        /// Only letters still in this status (`dead` for replay and purge). Defaults to any.
        public var status: String?
        public var limit = 1000

        public init(ids: [Int64] = [], reason: String? = nil, source: String? = nil, since: Date? = nil,
                    all: Bool = false, status: String? = nil, limit: Int = 1000) {
            self.ids = ids
            self.reason = reason
            self.source = source
            self.since = since
            self.all = all
            self.status = status
            self.limit = limit
        }

        var isEmpty: Bool { self.ids.isEmpty && self.reason == nil && self.source == nil && self.since == nil && !self.all }
    }

    public struct Summary: Sendable {
        public var id: Int64
        public var archivedAt: Date
        public var errorCode: String
        public var error: String?
        public var source: String?
        public var messageID: String?
        public var routingKey: String?
        public var status: String
        public var attempts: Int?
        public var replayedFrom: Int64?
    }

    public struct Detail: Sendable {
        public var summary: Summary
        public var exchange: String?
        public var failedAt: Date?
        public var headers: JSONValue
        public var properties: JSONValue
        /// The body as received; `nil` when it is sealed and its key is gone (or no keyring was given).
        public var body: [UInt8]?
        public var history: [(at: Date, action: String, actor: String, detail: String?)]
    }

    private static let columns = """
        id, archived_at, error_code, error, source, message_id, original_routing_key, status, attempts, replayed_from
        """

    private func summary(_ row: PGRow) throws -> Summary {
        Summary(id: try row.decode("id"), archivedAt: try row.decode("archived_at"), errorCode: try row.decode("error_code"),
                error: row["error"], source: row["source"], messageID: row["message_id"],
                routingKey: row["original_routing_key"], status: try row.decode("status"),
                attempts: try row.decodeIfPresent("attempts"), replayedFrom: try row.decodeIfPresent("replayed_from"))
    }

    /// Lists dead letters, newest first.
    public func list(_ s: Selection) throws -> [Summary] {
        let rows = try self.db.query(
            """
            select \(Self.columns) from dead_letters
            where ($1::int8[] = '{}' or id = any($1::int8[]))
              and ($2::text is null or error_code = $2) and ($3::text is null or source = $3)
              and ($4::timestamptz is null or archived_at >= $4) and ($5::text is null or status = $5)
            order by id desc limit $6
            """, [s.ids, s.reason, s.source, s.since, s.status, s.limit])
        return try rows.map(self.summary)
    }

    /// Counts by reason and status.
    public func counts() throws -> [(code: String, status: String, count: Int)] {
        try self.db.query("select error_code, status, count(*)::int8 as n from dead_letters group by 1, 2 order by 1, 2")
            .map { (try $0.decode("error_code"), try $0.decode("status"), try $0.decode("n")) }
    }

    /// One dead letter with headers, body and history; `nil` when there is none with that id.
    public func show(_ id: Int64) throws -> Detail? {
        guard let row = try self.db.query(
            """
            select \(Self.columns), original_exchange, failed_at, headers::text as headers,
                   properties::text as properties, body, body_key, dedupe_key from dead_letters where id = $1
            """, [id]).first else { return nil }
        let history = try self.db.query(
            "select at, action, actor, detail from dead_letter_audit where dead_letter_id = $1 order by id", [id])
            .map { (try $0.decode("at", as: Date.self), try $0.decode("action", as: String.self),
                    try $0.decode("actor", as: String.self), $0["detail"]) }
        return Detail(summary: try self.summary(row), exchange: row["original_exchange"],
                      failedAt: try row.decodeIfPresent("failed_at"),
                      headers: (try? JSONValue.parse(Array((row["headers"] ?? "{}").utf8))) ?? .object([:]),
                      properties: (try? JSONValue.parse(Array((row["properties"] ?? "{}").utf8))) ?? .object([:]),
                      body: try DeadLetterArchive.body(stored: row.decode("body"), keyID: row.decodeIfPresent("body_key"),
                                                       dedupeKey: row.decode("dedupe_key"), keyring: self.keyring, db: self.db),
                      history: history)
    }

    public struct ReplayReport: Sendable {
        public var selected = 0
        public var replayed = 0
        public var failed: [(id: Int64, reason: String)] = []
    }

    /// Republishes dead letters to their original exchange and routing key, with the same message id and an
    /// `x-rapport-replayed-from` header, waiting for confirms; marks each replayed.
    ///
    /// A replayed message that fails again comes back as a new dead letter (pointing at this one),
    /// so there is no loop: replay is always an admin's act.
    public func replay(_ s: Selection, publisher: AMQPConnection, actor: String, dryRun: Bool = false,
                       window: Int = 200, progress: (Int, Int) -> Void = { _, _ in }) throws -> ReplayReport {
        precondition(!s.isEmpty, "an empty selection would replay everything; pass all: true for that")
        var sel = s
        sel.status = "dead"
        sel.limit = s.all ? Int.max / 2 : s.limit
        let targets = try self.list(sel).reversed()  // oldest first keeps the original order
        var report = ReplayReport(selected: targets.count)
        if dryRun { return report }
        try publisher.enableConfirms()
        var done = 0
        for chunk in Array(targets).chunked(window) {
            var sent: [(Int64, String?)] = []
            for t in chunk {
                guard let d = try self.show(t.id), let exchange = d.exchange, let rk = d.summary.routingKey else {
                    report.failed.append((t.id, "no original exchange or routing key recorded"))
                    continue
                }
                guard let body = d.body else {
                    report.failed.append((t.id, "its body is sealed and no key opens it (no KEK file given, or erased)"))
                    continue
                }
                var p = AMQPProperties()
                let props = d.properties.objectValue ?? [:]
                p.contentType = props["content_type"]?.stringValue
                p.messageID = props["message_id"]?.stringValue
                p.appID = props["app_id"]?.stringValue
                // A registered source's message keeps its user_id: the replaying identity must hold the
                // broker's impersonator tag (rapport-admin does), or the broker refuses the publish.
                p.userID = props["user_id"]?.stringValue
                p.correlationID = props["correlation_id"]?.stringValue
                p.type = props["type"]?.stringValue
                if case .number(let ts)? = props["timestamp"] { p.timestamp = Date(timeIntervalSince1970: ts) }
                var headers = DeadLetters.table(d.headers)
                for (k, _) in headers where DeadLetterHeader.added.contains(k) || k.hasPrefix("x-death") || k.hasPrefix("x-first-death")
                    || k.hasPrefix("x-last-death") {
                    headers[k] = nil
                }
                headers[DeadLetterHeader.replayedFrom] = .string(String(t.id))
                p.headers = headers
                try publisher.publish(exchange: exchange, routingKey: rk, body: body, properties: p, mandatory: true)
                sent.append((t.id, p.messageID))
            }
            let result = try publisher.waitForConfirms(timeout: .seconds(60))
            // A return carries no sequence number; match it by message id.
            let returnedIDs = Set(result.returned.compactMap(\.properties.messageID))
            let ok = sent.filter { !returnedIDs.contains($0.1 ?? "") }
            if !result.nacked.isEmpty {
                throw AMQPError(.nacked, replyText: "\(result.nacked.count) replayed messages were nacked; none in this window marked")
            }
            for (id, _) in sent where !ok.contains(where: { $0.0 == id }) {
                report.failed.append((id, "unroutable: no queue bound for its routing key"))
            }
            if !ok.isEmpty {
                try self.db.transaction {
                    let ids = ok.map(\.0)
                    try self.db.query(
                        "update dead_letters set status = 'replayed', replay_count = replay_count + 1, replayed_at = now() where id = any($1::int8[])",
                        [ids])
                    try self.db.query(
                        "insert into dead_letter_audit (dead_letter_id, action, actor) select unnest($1::int8[]), 'replay', $2",
                        [ids, actor])
                    try AuditLog(db: self.db).append(actor: actor, action: "dead_letter.replay", targets: ids.map { "dead_letter:\($0)" })
                }
            }
            report.replayed += ok.count
            done += chunk.count
            progress(done, targets.count)
        }
        return report
    }

    /// Marks dead letters purged (kept, with an audit row, never deleted). Returns how many.
    public func purge(_ s: Selection, actor: String, reason: String?) throws -> Int {
        precondition(!s.isEmpty, "an empty selection would purge everything; pass all: true for that")
        var sel = s
        sel.status = "dead"
        sel.limit = s.all ? Int.max / 2 : s.limit
        let ids = try self.list(sel).map(\.id)
        guard !ids.isEmpty else { return 0 }
        try self.db.transaction {
            try self.db.query("update dead_letters set status = 'purged', purged_at = now() where id = any($1::int8[])", [ids])
            try self.db.query(
                "insert into dead_letter_audit (dead_letter_id, action, actor, detail) select unnest($1::int8[]), 'purge', $2, $3",
                [ids, actor, reason])
            try AuditLog(db: self.db).append(actor: actor, action: "dead_letter.purge", targets: ids.map { "dead_letter:\($0)" })
        }
        return ids.count
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: self.count, by: size).map { self[$0..<Swift.min($0 + size, self.count)] }
    }
}
