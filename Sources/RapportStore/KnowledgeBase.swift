import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The knowledge base: versioned Markdown articles for staff (playbooks, notes) and customers (FAQ),
/// related articles, and "was this helpful" counts. Search goes through ``SearchEngine`` (`articles`).
public struct KnowledgeBase: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// Creates an article (`id` nil) or edits one at `version` (a stale version is refused with
    /// `conflict`). Every write is a version in `kb_article_versions`. Returns the id and version.
    @discardableResult
    public func write(_ id: UUID?, version: Int?, _ patch: [String: JSONValue], actor: String) throws -> (id: UUID, version: Int) {
        try self.db.transaction {
            var current: ArticleRecord?
            var next = 1
            let articleID = id ?? UUID()
            if let id {
                guard let row = try self.db.query(
                    "select title, body, category, tags, audience, status, version from kb_articles where id = $1::uuid for update", [Self.text(id)]).first else {
                    throw CustomerError(.notFound, field: "article_id", "no article \(Self.text(id))")
                }
                let stored: Int = try row.decode("version")
                guard let version, version == stored else {
                    throw CustomerError(.conflict, field: "version", "article \(Self.text(id)) is at version \(stored)", current: try self.get(id))
                }
                var a = ArticleRecord()
                a.title = try row.decode("title")
                a.body = try row.decode("body")
                a.category = row["category"]
                a.tags = try row.decode("tags")
                a.audience = ArticleRecord.Audience(rawValue: row["audience"] ?? "") ?? .internal
                a.status = ArticleRecord.Status(rawValue: row["status"] ?? "") ?? .draft
                current = a
                next = stored + 1
            }
            let a = try ArticleRecord.applying(patch, to: current)
            if a == current { return (articleID, next - 1) }
            let doc = a.searchDocument
            try self.db.query(
                """
                insert into kb_articles (id, title, body, category, tags, audience, status, version, created_by, search_text, search_tokens)
                values ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                on conflict (id) do update set title = excluded.title, body = excluded.body, category = excluded.category,
                    tags = excluded.tags, audience = excluded.audience, status = excluded.status, version = excluded.version,
                    search_text = excluded.search_text, search_tokens = excluded.search_tokens, updated_at = now()
                """, [Self.text(articleID), a.title, a.body, a.category, a.tags, a.audience.rawValue, a.status.rawValue, next, actor,
                      doc.text, doc.tokens])
            try self.db.query(
                """
                insert into kb_article_versions (article_id, version, title, body, category, tags, status, actor)
                values ($1::uuid, $2, $3, $4, $5, $6, $7, $8)
                """, [Self.text(articleID), next, a.title, a.body, a.category, a.tags, a.status.rawValue, actor])
            return (articleID, next)
        }
    }

    /// The article with its versions (newest first) and related articles; `nil` when there is none.
    public func get(_ id: UUID) throws -> JSONValue? {
        guard let text = try self.db.query(
            """
            select (to_jsonb(a) - 'search_text' - 'search_tokens' || jsonb_build_object(
                'versions', (select jsonb_agg(jsonb_build_object('version', v.version, 'title', v.title, 'status', v.status,
                              'actor', v.actor, 'at', v.at) order by v.version desc) from kb_article_versions v where v.article_id = a.id),
                'related', coalesce((select jsonb_agg(jsonb_build_object('id', b.id, 'title', b.title) order by b.title)
                              from kb_related r join kb_articles b on b.id = r.related_id where r.article_id = a.id), '[]')))::text as a
            from kb_articles a where a.id = $1::uuid
            """, [Self.text(id)]).first?["a"] else { return nil }
        return try JSONValue.parse(Array(text.utf8))
    }

    /// One version's full text.
    public func version(_ id: UUID, _ version: Int) throws -> JSONValue? {
        guard let text = try self.db.query(
            "select to_jsonb(v)::text as v from kb_article_versions v where article_id = $1::uuid and version = $2", [Self.text(id), version]).first?["v"] else {
            return nil
        }
        return try JSONValue.parse(Array(text.utf8))
    }

    /// Counts a "was this helpful" answer.
    public func feedback(_ id: UUID, helpful: Bool) throws {
        let updated = try self.db.query(
            "update kb_articles set \(helpful ? "helpful_yes = helpful_yes + 1" : "helpful_no = helpful_no + 1") where id = $1::uuid returning 1",
            [Self.text(id)])
        guard !updated.isEmpty else { throw CustomerError(.notFound, field: "article_id", "no article \(Self.text(id))") }
    }

    /// Relates articles both ways.
    public func relate(_ id: UUID, to others: [UUID]) throws {
        try self.db.transaction {
            let ids = [id] + others
            let found = try self.db.query("select count(*)::int8 as n from kb_articles where id = any($1::uuid[])", [ids.map(Self.text)]).first!.decode("n") as Int
            guard found == Set(ids).count else { throw CustomerError(.notFound, field: "related_ids", "\(Set(ids).count - found) of the articles do not exist") }
            guard !others.contains(id) else { throw CustomerError(.invalid, field: "related_ids", "an article is not related to itself") }
            try self.db.query(
                """
                insert into kb_related (article_id, related_id)
                select a, b from unnest($1::uuid[], $2::uuid[]) as x(a, b) union select b, a from unnest($1::uuid[], $2::uuid[]) as x(a, b)
                on conflict do nothing
                """, [Array(repeating: Self.text(id), count: others.count), others.map(Self.text)])
        }
    }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}
