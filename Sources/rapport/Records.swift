import ArgumentParser
import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import RapportServices
import RapportStore
import RapportAdmin

// Customers, searches, custom fields, prospects and the knowledge base from the command line: each
// subcommand builds a `RecordCommand` and runs it through `RecordCommandHandler.execute`, the code the
// `rapport.commands` messages run.

private var recordActor: String { ProcessInfo.processInfo.environment["USER"].map { "cli:" + $0 } ?? "cli" }

/// Runs one command against the database and returns its result.
private func execute(_ global: GlobalOptions, _ command: RecordCommand) throws -> JSONValue {
    let db = try global.database()
    defer { db.close() }
    // Identity keys are written blind under the database's index, as the workers write them.
    let keyring = try global.settings().keyring()
    try keyring?.attach(db: db)
    return try db.transaction { try RecordCommandHandler.execute(command, actor: recordActor, db: db, keyring: keyring) }
}

/// A reply value as a person reads it: `2`, not `number(2.0)`.
private func plain(_ v: JSONValue) -> String {
    switch v {
    case .number(let n) where n == n.rounded(): String(Int64(n))
    case .string(let s): s
    default: v.jsonString
    }
}

private func uuid(_ s: String) throws -> UUID { try UUID(uuidString: s).orThrow(CLIError("not an id: \(s)")) }

/// `key=value` pairs as JSON: numbers and true/false as such, `a|b` as a list.
private func pairs(_ list: [String], option: String) throws -> [String: JSONValue] {
    var out: [String: JSONValue] = [:]
    for item in list {
        guard let eq = item.firstIndex(of: "=") else { throw CLIError("--\(option) takes key=value, not \(item)") }
        let key = String(item[..<eq]), raw = String(item[item.index(after: eq)...])
        if raw.contains("|") {
            out[key] = .array(raw.split(separator: "|").map { .string(String($0)) })
        } else if raw == "true" || raw == "false" {
            out[key] = .bool(raw == "true")
        } else if let n = Double(raw), raw.first != "0" || raw == "0" || raw.hasPrefix("0.") {
            out[key] = .number(n)
        } else {
            out[key] = .string(raw)
        }
    }
    return out
}

/// A JSON object from a file (`-` for standard input), or nothing.
private func jsonObject(_ path: String?) throws -> [String: JSONValue] {
    guard let path else { return [:] }
    let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
    guard let o = try JSONValue.parse(Array(data)).objectValue else { throw CLIError("\(path): expected a JSON object") }
    return o
}

/// The customer fields as options; only those given go into the record (an edit changes just them).
struct CustomerFieldOptions: ParsableArguments {
    @Option(help: "person or company.") var kind: String?
    @Option(help: "Name (a company's registered name).") var name: String?
    @Option(name: .customLong("phone"), help: "A phone (repeat for several; the first is primary).") var phones: [String] = []
    @Option(name: .customLong("email"), help: "An email (repeat for several).") var emails: [String] = []
    @Option(help: "A person's company.") var company: String?
    @Option(help: "Level (A, B, C or one the shop defined).") var level: String?
    @Option(help: "Industry.") var industry: String?
    @Option(help: "Source channel.") var channel: String?
    @Option(name: .customLong("tag"), help: "A tag (repeat; replaces the tags).") var tags: [String] = []
    @Option(help: "Owner (rep id).") var owner: String?
    @Option(name: .customLong("custom"), help: "A custom field, key=value (repeat).") var custom: [String] = []
    @Option(help: "The record's fields as JSON (a file, or - for stdin): contacts, addresses and the rest; options above override it.")
    var json: String?

    func fields() throws -> [String: JSONValue] {
        var f = try jsonObject(self.json)
        if let v = self.kind { f["kind"] = .string(v) }
        if let v = self.name { f["name"] = .string(v) }
        if !self.phones.isEmpty { f["phones"] = .array(self.phones.map { .string($0) }) }
        if !self.emails.isEmpty { f["emails"] = .array(self.emails.map { .string($0) }) }
        if let v = self.company { f["company"] = .string(v) }
        if let v = self.level { f["level"] = .string(v) }
        if let v = self.industry { f["industry"] = .string(v) }
        if let v = self.channel { f["channel"] = .string(v) }
        if !self.tags.isEmpty { f["tags"] = .array(self.tags.map { .string($0) }) }
        if let v = self.owner { f["owner"] = .string(v) }
        if !self.custom.isEmpty { f["custom"] = .object(try pairs(self.custom, option: "custom")) }
        return f
    }
}

/// Text, filters, sort and page of a search, shared by every `search` subcommand.
struct SearchOptions: ParsableArguments {
    @Argument(help: "Text: a name or part of one, pinyin, initials (zw), 4+ digits of a phone, part of an email.")
    var text: [String] = []
    @Option(name: .customLong("filter"), help: "A filter, key=value (repeat); a|b for any of several. E.g. city=北京, level=A|B, public_pool=true.")
    var filters: [String] = []
    @Option(help: "Filters as JSON, for ranges: '{\"created\": {\"from\": \"2026-01-01\"}, \"capital\": {\"min\": 1000000}}'.")
    var filtersJSON: String?
    @Option(help: "created (newest first), updated or name.") var sort = "created"
    @Option(help: "Results per page (1-200).") var limit = 20
    @Option(help: "The cursor printed after the previous page.") var after: String?
    @Flag(help: "Print the page as JSON.") var json = false

    func query(_ entity: SearchQuery.Entity) throws -> SearchQuery {
        var filters = try pairs(self.filters, option: "filter")
        if let j = self.filtersJSON {
            guard let o = try JSONValue.parse(Array(j.utf8)).objectValue else { throw CLIError("--filters-json is a JSON object") }
            filters.merge(o) { _, new in new }
        }
        let text = self.text.joined(separator: " ")
        return SearchQuery(entity: entity, text: text.isEmpty ? nil : text, filters: filters, sort: self.sort, limit: self.limit, after: self.after)
    }

    /// Runs the search and prints a table (or JSON).
    func run(_ entity: SearchQuery.Entity, _ global: GlobalOptions) throws {
        let page = try execute(global, .search(try self.query(entity)))
        if self.json {
            print(page.jsonString)
            return
        }
        Self.table(page, entity)
    }

    static func table(_ page: JSONValue, _ entity: SearchQuery.Entity) {
        let columns: [String] = switch entity {
        case .customers: ["name", "kind", "level", "owner", "city", "phone"]
        case .leads: ["name", "company", "owner", "status", "channel", "phone"]
        case .prospects: ["name", "credit_code", "city", "industry", "registered_capital", "founded_on"]
        case .articles: ["title", "category", "audience", "status", "helpful_yes"]
        }
        let results = page.objectValue?["results"]?.arrayValue ?? []
        for r in results {
            let o = r.objectValue ?? [:]
            let cells = [o["id"]?.stringValue ?? ""] + columns.map { o[$0]?.stringValue ?? "-" }
            let why = (o["matched"]?.arrayValue ?? []).compactMap { m -> String? in
                guard let m = m.objectValue else { return nil }
                return "\(m["field"]?.stringValue ?? "") \(m["value"]?.stringValue ?? "") (\(m["how"]?.stringValue ?? ""))"
            }
            print(cells.joined(separator: "\t") + (why.isEmpty ? "" : "\tmatched: " + why.joined(separator: "; ")))
        }
        print("\(results.count) result\(results.count == 1 ? "" : "s")" + (page.objectValue?["next"]?.stringValue.map { "; next page: --after \($0)" } ?? ""))
    }
}

extension Customer {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a customer; someone already a customer or an owned lead comes back as that match (撞单).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: CustomerFieldOptions
        @Flag(help: "Add even if the phone, email or company name matches: it is a different person.") var differentPerson = false

        func run() throws {
            let r = try execute(self.global, .addCustomer(try self.fields.fields(), differentPerson: self.differentPerson)).objectValue ?? [:]
            if let m = r["match"]?.objectValue {
                print("already there: \(m["kind"]?.stringValue ?? "") \(m["id"]?.stringValue ?? "") \(m["name"]?.stringValue ?? "") (owner \(m["owner"]?.stringValue ?? "none"), matched on \(m["matched_on"]?.stringValue ?? ""))")
            } else {
                print("customer \(r["customer_id"]?.stringValue ?? "") version 1")
            }
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a customer's fields; refused with conflict if it changed since --version.")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String
        @Option(help: "The version you read (customer get).") var version: Int
        @OptionGroup var fields: CustomerFieldOptions

        func run() throws {
            let r = try execute(self.global, .editCustomer(try uuid(self.customer), version: self.version, changes: try self.fields.fields()))
            print("customer \(self.customer) version \(r.objectValue?["version"].map(plain) ?? "")")
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The customer's record and version, as edit takes it (JSON).")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String

        func run() throws { print(try execute(self.global, .getCustomer(try uuid(self.customer))).jsonString) }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every field change: version, field, old → new, who, when.")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String

        func run() throws {
            for h in try execute(self.global, .customerHistory(try uuid(self.customer))).objectValue?["history"]?.arrayValue ?? [] {
                let o = h.objectValue ?? [:]
                print("v\(o["version"].map(plain) ?? "")\t\(o["at"]?.stringValue ?? "")\t\(o["actor"]?.stringValue ?? "")\t\(o["field"]?.stringValue ?? ""): \(o["old"]?.jsonString ?? "null") → \(o["new"]?.jsonString ?? "null")")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Soft-delete a customer: out of pools, searches and reports; restore brings it back.")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String
        @Option var reason: String?

        func run() throws {
            _ = try execute(self.global, .deleteCustomer(try uuid(self.customer), reason: self.reason))
            print("customer \(self.customer) deleted")
        }
    }

    struct Undelete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a deleted customer.")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String

        func run() throws {
            _ = try execute(self.global, .restoreCustomer(try uuid(self.customer)))
            print("customer \(self.customer) restored")
        }
    }

    struct MergeCustomers: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge the loser into the winner (contacts, leads, pipeline, follow-ups move).")
        @OptionGroup var global: GlobalOptions
        @Argument var winner: String
        @Argument var loser: String
        @Option var reason: String?

        func run() throws {
            let r = try execute(self.global, .mergeCustomers(winner: try uuid(self.winner), loser: try uuid(self.loser), reason: self.reason))
            print("merge \(r.objectValue?["merge_id"].map(plain) ?? "")")
        }
    }

    struct UnmergeCustomers: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unmerge", abstract: "Undo a customer merge.")
        @OptionGroup var global: GlobalOptions
        @Argument var merge: Int64

        func run() throws {
            print("customer \(try execute(self.global, .unmergeCustomers(mergeID: self.merge)).objectValue?["customer_id"]?.stringValue ?? "") restored")
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find customers (and their contacts): 张伟, 伟, zw, zhangwei, 張偉, 0013 8000, part of an email; filters; pages.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var search: SearchOptions
        @Option(help: "Save this search under a name, for --rep.") var save: String?
        @Option(help: "The rep whose saved search it is.") var rep: String?

        func run() throws {
            if let name = self.save {
                guard let rep = self.rep else { throw CLIError("--save needs --rep") }
                _ = try execute(self.global, .saveSearch(rep: rep, name: name, try self.search.query(.customers)))
                print("saved \(name) for \(rep)")
            }
            try self.search.run(.customers, self.global)
        }
    }

    struct Level: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or rename a customer level (A/B/C by default); list them.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Level id (e.g. S, VIP); none: list the levels.") var id: String?
        @Option var name: String?
        @Option(help: "Place in the scale, 1 is best.") var rank: Int?

        func run() throws {
            guard let id = self.id else {
                let db = try self.global.database()
                defer { db.close() }
                for l in try Customers(db: db).levels() { print("\(l.rank)\t\(l.id)\t\(l.name)") }
                return
            }
            guard let rank = self.rank else { throw CLIError("--rank is needed to define a level") }
            _ = try execute(self.global, .defineLevel(id: id, name: self.name ?? id, rank: rank))
            print("level \(id) defined")
        }
    }

    struct Field: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a custom field (text, number, date, option), validated on every write.")
        @OptionGroup var global: GlobalOptions
        @Argument var key: String
        @Option var label: String
        @Option(help: "text, number, date or option.") var kind: String
        @Option(name: .customLong("option"), help: "An allowed value of an option field (repeat).") var options: [String] = []
        @Flag var required = false

        func run() throws {
            guard let kind = CustomFieldDefinition.Kind(rawValue: self.kind) else { throw CLIError("--kind is text, number, date or option") }
            let d = try CustomFieldDefinition(key: self.key, label: self.label, kind: kind, options: self.options, required: self.required)
            _ = try execute(self.global, .defineField(entity: "customer", d))
            print("custom field \(self.key) defined")
        }
    }
}

/// Searches of any kind, and saved searches.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search customers, leads, prospects or articles with one engine; run a saved search.",
        subcommands: [Find.self, Saved.self], defaultSubcommand: Find.self)

    struct Find: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search (--entity customers, leads, prospects or articles).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "customers, leads, prospects or articles.") var entity = "customers"
        @OptionGroup var search: SearchOptions

        func run() throws {
            guard let e = SearchQuery.Entity(rawValue: self.entity) else { throw CLIError("--entity is customers, leads, prospects or articles") }
            try self.search.run(e, self.global)
        }
    }

    struct Saved: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A rep's saved searches; with a name, run it.")
        @OptionGroup var global: GlobalOptions
        @Option var rep: String
        @Argument var name: String?
        @Option var after: String?

        func run() throws {
            let r = try execute(self.global, .savedSearches(rep: self.rep, name: self.name, after: self.after))
            if self.name == nil {
                for s in r.objectValue?["saved"]?.arrayValue ?? [] { print("\(s.objectValue?["name"]?.stringValue ?? "")\t\(s.objectValue?["query"]?.jsonString ?? "")") }
            } else {
                SearchOptions.table(r, .customers)
            }
        }
    }
}

/// 在线搜客: the prospect base.
struct Prospect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The prospect base (在线搜客): import directory exports, search, add as lead.",
        subcommands: [ImportFile.self, Search.self, Show.self, ToLead.self])

    struct ImportFile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Import a directory export (CSV or xlsx); importing it again updates, never doubles.")
        @OptionGroup var global: GlobalOptions
        @Argument var file: String
        @Option(help: "Where the file came from (e.g. qichacha).") var source = "import"
        @Option(help: "Which column fills which field (JSON).") var mapping = "connectors/prospects/directory.json"

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let job = ProspectImport(path: self.file, source: self.source, columns: try ProspectImport.mapping(path: self.mapping))
            let progress = Progress(label: "prospects")
            let r = try job.run(db: db) { done, total, rows in progress.update(Int(done), Int(total), suffix: "\(rows) rows") }
            print("\(self.file): \(r.rows) rows, \(r.created) new, \(r.updated) updated, \(r.refused.values.reduce(0, +)) refused")
            for (code, n) in r.refused.sorted(by: { $0.key < $1.key }) { print("  refused \(code): \(n)") }
            for e in r.firstErrors { print("  \(e)") }
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search prospects: name, pinyin, initials, legal rep, phone, credit code; filters city, industry, size, capital {min,max}, founded {from,to}.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var search: SearchOptions

        func run() throws { try self.search.run(.prospects, self.global) }
    }

    struct Show: ParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var prospect: String

        func run() throws { print(try execute(self.global, .getProspect(try uuid(self.prospect))).jsonString) }
    }

    struct ToLead: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "to-lead", abstract: "Add the prospect as a lead through the ingest path (someone already there is matched, not doubled).")
        @OptionGroup var global: GlobalOptions
        @Argument var prospect: String
        @Option(help: "Seconds to wait for the workers to ingest it.") var wait = 15

        func run() throws {
            let id = try uuid(self.prospect)
            let r = try execute(self.global, .prospectToLead(id))
            print("queued as \(r.objectValue?["message_id"]?.stringValue ?? "")")
            let db = try self.global.database()
            defer { db.close() }
            let deadline = ContinuousClock.now + .seconds(self.wait)
            while ContinuousClock.now < deadline {
                if let o = try Prospects(db: db).leadOutcome(id) {
                    print("lead \(o.lead?.uuidString.lowercased() ?? "-") (\(o.outcome))")
                    return
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            print("not ingested yet (are the workers running? rapport run)")
        }
    }
}

/// The knowledge base.
struct KB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "The knowledge base: write, publish, search, show, feedback, relate.",
        subcommands: [Write.self, Search.self, Show.self, Feedback.self, Relate.self])

    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an article, or edit one at --version (each write is a version).")
        @OptionGroup var global: GlobalOptions
        @Option var id: String?
        @Option var version: Int?
        @Option var title: String?
        @Option(help: "Markdown file with the body (- for stdin).") var bodyFile: String?
        @Option var category: String?
        @Option(name: .customLong("tag")) var tags: [String] = []
        @Option(help: "internal or public.") var audience: String?
        @Option(help: "draft, published or archived.") var status: String?

        func run() throws {
            var f: [String: JSONValue] = [:]
            if let v = self.title { f["title"] = .string(v) }
            if let p = self.bodyFile {
                let data = p == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: p))
                f["body"] = .string(String(decoding: data, as: UTF8.self))
            }
            if let v = self.category { f["category"] = .string(v) }
            if !self.tags.isEmpty { f["tags"] = .array(self.tags.map { .string($0) }) }
            if let v = self.audience { f["audience"] = .string(v) }
            if let v = self.status { f["status"] = .string(v) }
            let r = try execute(self.global, .writeArticle(try self.id.map(uuid), version: self.version, f)).objectValue ?? [:]
            print("article \(r["article_id"]?.stringValue ?? "") version \(r["version"].map(plain) ?? "")")
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search articles (title, tags, body; Chinese, pinyin); e.g. --filter audience=public --filter status=published.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var search: SearchOptions

        func run() throws { try self.search.run(.articles, self.global) }
    }

    struct Show: ParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var article: String
        @Option(help: "An older version.") var version: Int?

        func run() throws { print(try execute(self.global, .getArticle(try uuid(self.article), version: self.version)).jsonString) }
    }

    struct Feedback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count a \"was this helpful\" answer.")
        @OptionGroup var global: GlobalOptions
        @Argument var article: String
        @Flag(inversion: .prefixedNo) var helpful: Bool

        func run() throws {
            _ = try execute(self.global, .articleFeedback(try uuid(self.article), helpful: self.helpful))
            print("counted")
        }
    }

    struct Relate: ParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var article: String
        @Argument var related: [String]

        func run() throws {
            _ = try execute(self.global, .relateArticles(try uuid(self.article), try self.related.map(uuid)))
            print("related")
        }
    }
}
