import Foundation
import RapportSupport

/// One search: text, filters, sort and a page. The same shape for customers (and their contacts),
/// leads, prospects and knowledge-base articles; which filters and sorts apply depends on the entity.
public struct SearchQuery: Sendable, Hashable {
    public enum Entity: String, Sendable, Hashable, CaseIterable {
        case customers, leads, prospects, articles
    }

    public var entity: Entity
    /// Free text: a name or its part, pinyin, initials, a phone fragment, an email part.
    public var text: String?
    /// Filter name → value, as the entity defines them (`city`, `level`, `created`…).
    public var filters: [String: JSONValue]
    /// `created` (newest first, the default), `updated` (latest first) or `name`.
    public var sort: String
    /// Results per page, 1–200. Defaults to 20.
    public var limit: Int
    /// The cursor of the page before (keyset pagination): `next` of the previous answer.
    public var after: String?

    public init(entity: Entity, text: String? = nil, filters: [String: JSONValue] = [:], sort: String = "created", limit: Int = 20,
                after: String? = nil) {
        self.entity = entity
        self.text = text
        self.filters = filters
        self.sort = sort
        self.limit = limit
        self.after = after
    }

    static let keys: Set<String> = ["entity", "text", "filters", "sort", "limit", "after"]

    /// Reads a query from a command body or a saved search: `{"text", "filters", "sort", "limit", "after"}`.
    public init(json: [String: JSONValue], entity: Entity? = nil) throws(CustomerError) {
        if let unknown = json.keys.sorted().first(where: { !Self.keys.contains($0) }) {
            throw CustomerError(.unknownField, field: unknown, "a search has no field \(unknown)")
        }
        let name = json["entity"]?.stringValue
        guard let e = entity ?? name.map({ Entity(rawValue: $0) }) ?? .customers else {
            throw CustomerError(.invalid, field: "entity", "entity is one of \(Entity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.entity = e
        switch json["text"] {
        case nil, .null?: self.text = nil
        case .string(let s)?: self.text = s.trimmingCharacters(in: .whitespaces).isEmpty ? nil : s
        default: throw CustomerError(.invalid, field: "text", "text is a string")
        }
        switch json["filters"] {
        case nil, .null?: self.filters = [:]
        case .object(let o)?: self.filters = o.filter { $0.value != .null }
        default: throw CustomerError(.invalid, field: "filters", "filters is an object")
        }
        self.sort = json["sort"]?.stringValue ?? "created"
        switch json["limit"] {
        case nil, .null?: self.limit = 20
        case .number(let n)? where n == n.rounded() && n >= 1 && n <= 200: self.limit = Int(n)
        default: throw CustomerError(.invalid, field: "limit", "limit is a whole number from 1 to 200")
        }
        self.after = json["after"]?.stringValue
    }

    public var json: [String: JSONValue] {
        var o: [String: JSONValue] = ["entity": .string(self.entity.rawValue), "filters": .object(self.filters),
                                      "sort": .string(self.sort), "limit": .number(Double(self.limit))]
        if let t = self.text { o["text"] = .string(t) }
        if let a = self.after { o["after"] = .string(a) }
        return o
    }
}

/// One page of results.
public struct SearchPage: Sendable {
    public struct Hit: Sendable {
        public var id: UUID
        /// The fields a result list shows (name, owner, city…).
        public var fields: [String: JSONValue]
        /// Why it matched the text, one reason per term (empty for a filter-only search).
        public var reasons: [SearchReason]

        public init(id: UUID, fields: [String: JSONValue], reasons: [SearchReason]) {
            self.id = id
            self.fields = fields
            self.reasons = reasons
        }
    }

    public var hits: [Hit]
    /// The cursor for the next page; `nil` on the last.
    public var next: String?

    public init(hits: [Hit], next: String?) {
        self.hits = hits
        self.next = next
    }

    public var json: JSONValue {
        .object([
            "results": .array(self.hits.map { h in
                var o = h.fields
                o["id"] = .string(h.id.uuidString.lowercased())
                o["matched"] = .array(h.reasons.map { r in
                    .object(["term": .string(r.term), "field": .string(r.label), "value": .string(r.excerpt), "how": .string(r.how.rawValue)])
                })
                return .object(o)
            }),
            "next": self.next.map { .string($0) } ?? .null,
        ])
    }
}
