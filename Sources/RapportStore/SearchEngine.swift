import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The one search engine for customers (with their contacts), leads, prospects and articles. Text goes
/// through ``SearchTokens/query(_:)``: one `search_tokens && $group` per group, which the GIN index
/// answers, then ``SearchDocument/match(_:)`` re-checks each candidate exactly and says why it matched.
/// Filters are plain SQL on indexed columns; pages are keyset (`after` the last row's sort key and id),
/// so page 50 costs what page 1 does.
public struct SearchEngine: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// One page of results.
    public func search(_ q: SearchQuery) throws -> SearchPage {
        let table = Self.table(q.entity)
        let groups = q.text.map(SearchTokens.query) ?? []
        if let text = q.text, groups.isEmpty {
            throw CustomerError(.invalid, field: "text", "\"\(text)\" has nothing to search for (letters, characters or 4+ digits)")
        }
        var hits: [SearchPage.Hit] = []
        var cursors: [String] = []
        var after = q.after
        var more = true
        // Candidates the re-check drops leave a page short: read on until it is full or nothing is left.
        while hits.count <= q.limit && more {
            let want = (q.limit + 1 - hits.count) * (groups.isEmpty ? 1 : 2) + 8
            let (sql, params) = try self.sql(q, after: after, limit: want, groups: groups)
            let rows = try self.db.query(sql, params)
            more = rows.count == want
            for row in rows {
                after = Self.cursor(try row.decode("sort_value"), try row.decode("id"))
                let reasons: [SearchReason]
                if let text = q.text {
                    guard let r = SearchDocument(text: row["search_text"] ?? "").match(text) else { continue }
                    reasons = r
                } else {
                    reasons = []
                }
                var fields: [String: JSONValue] = [:]
                for (key, _) in table.columns {
                    fields[key] = row[key].map { .string($0) } ?? .null
                }
                hits.append(SearchPage.Hit(id: try row.decode("id"), fields: fields, reasons: reasons))
                cursors.append(after!)
                if hits.count > q.limit { break }
            }
        }
        guard hits.count > q.limit else { return SearchPage(hits: hits, next: nil) }
        hits.removeLast()
        return SearchPage(hits: hits, next: cursors[hits.count - 1])
    }

    /// The statement and its parameters for one read of candidates (public for EXPLAIN in tests).
    public func sql(_ q: SearchQuery, after: String? = nil, limit: Int, groups: [[String]]? = nil) throws -> (String, [(any PGEncodable)?]) {
        let table = Self.table(q.entity)
        var p = Params()
        var conditions: [String] = []
        for group in groups ?? q.text.map(SearchTokens.query) ?? [] {
            conditions.append("t.search_tokens && \(p.add(group))::text[]")
        }
        let deleted = q.filters["deleted"]
        for key in q.filters.keys.sorted() where key != "deleted" {
            guard let build = table.filters[key] else {
                throw CustomerError(.unknownField, field: "filters.\(key)",
                                    "\(q.entity.rawValue) have no filter \(key) (filters: \(table.filters.keys.sorted().joined(separator: ", ")))")
            }
            conditions.append(try build(q.filters[key]!, &p, "filters.\(key)"))
        }
        if let live = table.live {
            switch deleted {
            case nil: conditions.append(live)
            case .bool(false)?: conditions.append(live)
            case .bool(true)?: conditions.append("not (\(live))")
            default: throw CustomerError(.invalid, field: "filters.deleted", "deleted is true or false")
            }
        }
        guard let sort = table.sorts[q.sort] else {
            throw CustomerError(.invalid, field: "sort", "sort is one of \(table.sorts.keys.sorted().joined(separator: ", "))")
        }
        if let after {
            guard let (value, id) = Self.parse(cursor: after) else { throw CustomerError(.invalid, field: "after", "not a cursor of this search") }
            conditions.append("(\(sort.expr), t.id) \(sort.descending ? "<" : ">") (\(p.add(value))::\(sort.type), \(p.add(id))::uuid)")
        }
        let order = sort.descending ? "desc" : "asc"
        let columns = table.columns.map { "\($0.value) as \"\($0.key)\"" }.joined(separator: ", ")
        let sql = """
            select t.id, t.search_text, \(sort.expr)::text as sort_value, \(columns)
            from \(table.from) t
            \(conditions.isEmpty ? "" : "where " + conditions.joined(separator: " and "))
            order by \(sort.expr) \(order), t.id \(order) limit \(limit)
            """
        return (sql, p.values)
    }

    // MARK: Saved searches

    /// Saves (or replaces) a rep's search under a name.
    public func save(_ q: SearchQuery, rep: String, name: String) throws {
        var stored = q
        stored.after = nil
        _ = try self.sql(stored, limit: 1)  // refuse a search that would not run
        try self.db.query(
            """
            insert into saved_searches (rep_id, name, entity, query) values ($1, $2, $3, $4::jsonb)
            on conflict (rep_id, name) do update set entity = excluded.entity, query = excluded.query, created_at = now()
            """, [rep, name, q.entity.rawValue, JSONValue.object(stored.json).jsonString])
    }

    /// A rep's saved searches, by name.
    public func saved(rep: String) throws -> [(name: String, query: SearchQuery)] {
        try self.db.query("select name, query::text as q from saved_searches where rep_id = $1 order by name", [rep]).map { row in
            let json = try JSONValue.parse(Array((row["q"] ?? "{}").utf8)).objectValue ?? [:]
            return (try row.decode("name"), try SearchQuery(json: json))
        }
    }

    /// A saved search by name.
    public func saved(rep: String, name: String) throws -> SearchQuery {
        guard let found = try self.saved(rep: rep).first(where: { $0.name == name }) else {
            throw CustomerError(.notFound, field: "name", "\(rep) has no saved search \(name)")
        }
        return found.query
    }

    // MARK: Tables

    /// Numbered parameters as a statement is built.
    struct Params {
        var values: [(any PGEncodable)?] = []

        mutating func add(_ v: (any PGEncodable)?) -> String {
            self.values.append(v)
            return "$\(self.values.count)"
        }
    }

    typealias Filter = @Sendable (JSONValue, inout Params, String) throws -> String

    struct Sort {
        var expr: String
        var type: String
        var descending: Bool
    }

    struct Table {
        var from: String
        /// Result fields: name → SQL expression.
        var columns: [String: String]
        var sorts: [String: Sort]
        var filters: [String: Filter]
        /// What a live row is; `filters.deleted: true` turns it round.
        var live: String?
    }

    static func table(_ e: SearchQuery.Entity) -> Table {
        switch e {
        case .customers: Self.customers
        case .leads: Self.leads
        case .prospects: Self.prospects
        case .articles: Self.articles
        }
    }

    static let common: [String: Sort] = [
        "created": Sort(expr: "t.created_at", type: "timestamptz", descending: true),
        "updated": Sort(expr: "t.updated_at", type: "timestamptz", descending: true),
    ]

    static let customers = Table(
        from: "customers",
        columns: ["name": "t.name", "kind": "t.kind", "owner": "t.owner", "level": "t.level", "industry": "t.industry",
                  "city": "t.city", "phone": "t.phone", "created_at": "t.created_at"],
        sorts: Self.common.merging(["name": Sort(expr: "t.name", type: "text", descending: false)]) { a, _ in a },
        filters: [
            "owner": Self.anyOf("t.owner"), "level": Self.anyOf("t.level"), "industry": Self.anyOf("t.industry"),
            "province": Self.anyOf("t.province"), "city": Self.anyOf("t.city"), "district": Self.anyOf("t.district"),
            "channel": Self.anyOf("t.source_channel"), "kind": Self.anyOf("t.kind"),
            "team": { v, p, f in "t.owner in (select id from reps where team_id = any(\(p.add(try Self.strings(v, f)))::text[]))" },
            "tags": { v, p, f in "t.tags @> \(p.add(try Self.strings(v, f)))::text[]" },
            "custom": { v, p, f in
                guard case .object = v else { throw CustomerError(.invalid, field: f, "custom is an object of field → value") }
                return "t.custom @> \(p.add(v.jsonString))::jsonb"
            },
            "created": Self.range("t.created_at", "timestamptz"), "last_followup": Self.range("t.last_followup_at", "timestamptz"),
            "last_deal": Self.range("t.last_deal_at", "timestamptz"),
            "open_opportunity": Self.flag("exists (select 1 from opportunities o where o.customer_id = t.id and o.status = 'open')"),
            "public_pool": Self.flag("t.public_pool_id is not null"),
        ],
        live: "t.deleted_at is null")

    static let leads = Table(
        from: "leads",
        columns: ["name": "t.name", "owner": "t.owner", "status": "t.status", "channel": "t.channel", "phone": "t.phone",
                  "company": "t.company", "created_at": "t.created_at"],
        sorts: Self.common,
        filters: [
            "owner": Self.anyOf("t.owner"), "status": Self.anyOf("t.status"), "channel": Self.anyOf("t.channel"),
            "source": Self.anyOf("t.source"), "created": Self.range("t.created_at", "timestamptz"),
            "last_followup": Self.range("t.last_followup_at", "timestamptz"),
            "team": { v, p, f in "t.owner in (select id from reps where team_id = any(\(p.add(try Self.strings(v, f)))::text[]))" },
        ],
        live: "t.merged_into is null")

    static let prospects = Table(
        from: "prospects",
        columns: ["name": "t.name", "kind": "t.kind", "credit_code": "t.credit_code", "legal_rep": "t.legal_rep",
                  "registered_capital": "t.registered_capital", "founded_on": "t.founded_on", "industry": "t.industry",
                  "province": "t.province", "city": "t.city", "size": "t.size"],
        sorts: Self.common.merging(["name": Sort(expr: "t.name", type: "text", descending: false)]) { a, _ in a },
        filters: [
            "industry": Self.anyOf("t.industry"), "province": Self.anyOf("t.province"), "city": Self.anyOf("t.city"),
            "district": Self.anyOf("t.district"), "size": Self.anyOf("t.size"), "kind": Self.anyOf("t.kind"),
            "capital": Self.range("t.registered_capital", "numeric"), "founded": Self.range("t.founded_on", "date"),
            "has_lead": Self.flag("exists (select 1 from inbound_ledger g where g.source = 'prospects' and g.message_id = 'prospect:' || t.id)"),
        ],
        live: nil)

    static let articles = Table(
        from: "kb_articles",
        columns: ["title": "t.title", "category": "t.category", "audience": "t.audience", "status": "t.status",
                  "version": "t.version", "helpful_yes": "t.helpful_yes", "helpful_no": "t.helpful_no", "updated_at": "t.updated_at"],
        sorts: Self.common.merging(["title": Sort(expr: "t.title", type: "text", descending: false)]) { a, _ in a },
        filters: [
            "category": Self.anyOf("t.category"), "audience": Self.anyOf("t.audience"), "status": Self.anyOf("t.status"),
            "tags": { v, p, f in "t.tags @> \(p.add(try Self.strings(v, f)))::text[]" },
        ],
        live: "t.status <> 'archived'")

    // MARK: Filter kinds

    static func strings(_ v: JSONValue, _ field: String) throws(CustomerError) -> [String] {
        switch v {
        case .string(let s): return [s]
        case .array(let a) where a.allSatisfy({ $0.stringValue != nil }): return a.compactMap(\.stringValue)
        default: throw CustomerError(.invalid, field: field, "\(field) is a string or a list of strings")
        }
    }

    /// `column` is one of the values.
    static func anyOf(_ column: String) -> Filter {
        { v, p, f in "\(column) = any(\(p.add(try Self.strings(v, f)))::text[])" }
    }

    /// `{"from": …, "to": …}` (either may be left out), `to` exclusive; dates, times or numbers.
    static func range(_ column: String, _ type: String) -> Filter {
        { v, p, f in
            guard case .object(let o) = v, !o.isEmpty, Set(o.keys).isSubset(of: ["from", "to", "min", "max"]) else {
                throw CustomerError(.invalid, field: f, "\(f) is {\"from\": …, \"to\": …}")
            }
            var parts: [String] = []
            for (key, op) in [("from", ">="), ("min", ">="), ("to", "<"), ("max", "<=")] {
                guard let bound = o[key], bound != .null else { continue }
                let text: String
                switch bound {
                case .string(let s): text = s
                case .number(let n): text = n == n.rounded() ? String(Int64(n)) : String(n)
                default: throw CustomerError(.invalid, field: "\(f).\(key)", "\(key) is a date or a number")
                }
                if type != "numeric" && ISO8601.parse(text, rules: .postgres) == nil {
                    throw CustomerError(.invalid, field: "\(f).\(key)", "\(text) is not a date (YYYY-MM-DD) or time (ISO 8601)")
                }
                if type == "numeric" && Double(text) == nil {
                    throw CustomerError(.invalid, field: "\(f).\(key)", "\(text) is not a number")
                }
                parts.append("\(column) \(op) \(p.add(text))::\(type)")
            }
            return parts.joined(separator: " and ")
        }
    }

    /// `true`: the condition holds; `false`: it does not.
    static func flag(_ condition: String) -> Filter {
        { v, _, f in
            guard case .bool(let b) = v else { throw CustomerError(.invalid, field: f, "\(f) is true or false") }
            return b ? condition : "not (\(condition))"
        }
    }

    // MARK: Cursors

    static func cursor(_ value: String, _ id: UUID) -> String {
        Data((value + "\u{1F}" + id.uuidString.lowercased()).utf8).base64EncodedString()
    }

    static func parse(cursor: String) -> (String, String)? {
        guard let data = Data(base64Encoded: cursor), let s = String(data: data, encoding: .utf8) else { return nil }
        let parts = s.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard parts.count == 2, UUID(uuidString: String(parts[1])) != nil else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
