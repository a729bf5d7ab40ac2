import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Leads' search tokens, filled off the ingest path: a trigger marks a lead whose name, phone, email,
/// company or address changed (`search_stale`), and ``refresh(limit:)`` (the indexer job) tokenizes a
/// batch of them. Several indexers share the work (`skip locked`).
public struct LeadSearchIndex: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// What search reads of a lead.
    public static func document(name: String?, phone: String?, email: String?, company: String?, address: String?) -> SearchDocument {
        var f: [SearchDocument.Field] = []
        if let v = name { f.append(.init("name", .name, v)) }
        if let v = company { f.append(.init("company", .company, v)) }
        if let v = phone { f.append(.init("phone", .phone, v)) }
        if let v = email { f.append(.init("email", .email, v)) }
        if let v = address { f.append(.init("address", .text, v)) }
        return SearchDocument(f)
    }

    /// Tokenizes up to `limit` stale leads; returns how many.
    @discardableResult
    public func refresh(limit: Int = 500) throws -> Int {
        try self.db.transaction {
            let rows = try self.db.query(
                "select id::text as id, name, phone, email, company, address from leads where search_stale order by id limit $1 for update skip locked",
                [limit])
            guard !rows.isEmpty else { return 0 }
            var ids: [String] = [], texts: [String] = [], tokens: [String] = []
            for r in rows {
                let doc = Self.document(name: r["name"], phone: r["phone"], email: r["email"], company: r["company"], address: r["address"])
                ids.append(try r.decode("id"))
                texts.append(doc.text)
                tokens.append(JSONValue.array(doc.tokens.map { .string($0) }).jsonString)
            }
            try self.db.query(
                """
                update leads l set search_text = x.t, search_stale = false,
                       search_tokens = (select coalesce(array_agg(e), '{}') from jsonb_array_elements_text(x.k::jsonb) e)
                from unnest($1::uuid[], $2::text[], $3::text[]) as x(id, t, k) where l.id = x.id
                """, [ids, texts, tokens])
            return rows.count
        }
    }
}
