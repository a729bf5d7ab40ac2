import Foundation
import RapportSupport

/// A knowledge-base article: Markdown with a title, category, tags, audience (`internal`: marketing and
/// sales notes, playbooks; `public`: customer FAQ) and status (`draft`, `published`, `archived`).
public struct ArticleRecord: Sendable, Hashable {
    public enum Audience: String, Sendable, Hashable, CaseIterable { case `internal`, `public` }
    public enum Status: String, Sendable, Hashable, CaseIterable { case draft, published, archived }

    public var title = ""
    public var body = ""
    public var category: String?
    public var tags: [String] = []
    public var audience: Audience = .internal
    public var status: Status = .draft

    public init() {}

    public static let fields: Set<String> = ["title", "body", "category", "tags", "audience", "status"]

    /// `current` with `patch` applied (a new article when `current` is nil); errors name the field.
    public static func applying(_ patch: [String: JSONValue], to current: ArticleRecord?) throws(CustomerError) -> ArticleRecord {
        if let unknown = patch.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw CustomerError(.unknownField, field: unknown, "articles have no field \(unknown)")
        }
        var a = current ?? ArticleRecord()
        let f = CustomerRecord.Fields(patch, path: "")
        if f.has("title") { a.title = try f.string("title").flatMap(Normalize.text) ?? "" }
        if f.has("body") { a.body = try f.string("body") ?? "" }
        if f.has("category") { a.category = try f.string("category").flatMap(Normalize.text) }
        if f.has("tags") { a.tags = try f.strings("tags").compactMap(Normalize.text) }
        if let v = try f.string("audience") {
            guard let x = Audience(rawValue: v) else { throw CustomerError(.invalid, field: "audience", "audience is internal or public") }
            a.audience = x
        }
        if let v = try f.string("status") {
            guard let x = Status(rawValue: v) else { throw CustomerError(.invalid, field: "status", "status is draft, published or archived") }
            a.status = x
        }
        guard !a.title.isEmpty else { throw CustomerError(.invalid, field: "title", "an article has a title") }
        guard a.status != .published || !a.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CustomerError(.invalid, field: "body", "a published article has a body")
        }
        return a
    }

    /// Title and tags read as names (pinyin and initials find them), category and body as text.
    public var searchDocument: SearchDocument {
        var f: [SearchDocument.Field] = [.init("title", .name, self.title)]
        f += self.tags.map { .init("tag", .name, $0) }
        if let c = self.category { f.append(.init("category", .text, c)) }
        f.append(.init("body", .text, self.body))
        return SearchDocument(f)
    }
}
