import Foundation
import RapportStore
import RapportDecoding
import RapportCore
import RapportSupport
import RapportPostgres

/// Customers, searches, custom fields, prospects and the knowledge base by command (``RecordCommand``),
/// each message id applied once. The CLI calls ``execute(_:actor:db:)`` too, so both paths are one.
public struct RecordCommandHandler: CommandHandler {
    /// Identity keys are written and read blind under its index (the one ingest uses).
    let keyring: Keyring?
    public init(keyring: Keyring?) { self.keyring = keyring }

    public func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome {
        try self.applyOnce(e, db: db, parse: RecordCommand.parse, name: \.name) { command, actor in
            try Self.execute(command, actor: actor, db: db, keyring: self.keyring)
        }
    }

    public static func execute(_ command: RecordCommand, actor: String, db: PGConnection, keyring: Keyring?) throws -> JSONValue {
        let customers = Customers(db: db, keyring: keyring)
        func id(_ u: UUID) -> JSONValue { .string(u.uuidString.lowercased()) }
        func stored(_ u: UUID) throws -> JSONValue {
            guard let s = try customers.get(u) else { throw CustomerError(.notFound, field: "customer_id", "no customer \(u.uuidString.lowercased())") }
            return s.json
        }
        switch command {
        case .addCustomer(let fields, let different):
            switch try customers.add(fields, differentPerson: different, actor: actor) {
            case .created(let c, let version): return .object(["created": true, "customer_id": id(c), "version": .number(Double(version))])
            case .matched(let m): return .object(["created": false, "match": m.json])
            }
        case .editCustomer(let c, let version, let changes):
            let v = try customers.edit(c, version: version, patch: changes, actor: actor)
            return .object(["customer_id": id(c), "version": .number(Double(v))])
        case .deleteCustomer(let c, let reason):
            let v = try customers.delete(c, actor: actor, reason: reason)
            return .object(["customer_id": id(c), "version": .number(Double(v)), "deleted": true])
        case .restoreCustomer(let c):
            let v = try customers.restore(c, actor: actor)
            return .object(["customer_id": id(c), "version": .number(Double(v)), "deleted": false])
        case .mergeCustomers(let winner, let loser, let reason):
            return .object(["merge_id": .number(Double(try customers.merge(winner: winner, loser: loser, actor: actor, reason: reason)))])
        case .unmergeCustomers(let merge):
            return .object(["customer_id": id(try customers.unmerge(merge, actor: actor))])
        case .getCustomer(let c):
            return try stored(c)
        case .customerHistory(let c):
            _ = try stored(c)
            return .object(["customer_id": id(c), "history": .array(try customers.history(c))])
        case .search(let q):
            return try SearchEngine(db: db).search(q).json
        case .saveSearch(let rep, let name, let q):
            try SearchEngine(db: db).save(q, rep: rep, name: name)
            return .object(["rep_id": .string(rep), "name": .string(name)])
        case .savedSearches(let rep, let name, let after):
            let engine = SearchEngine(db: db)
            guard let name else {
                return .object(["saved": .array(try engine.saved(rep: rep).map { .object(["name": .string($0.name), "query": .object($0.query.json)]) })])
            }
            var q = try engine.saved(rep: rep, name: name)
            q.after = after
            return try engine.search(q).json
        case .defineField(let entity, let d):
            try customers.defineField(d, entity: entity)
            return .object(["entity": .string(entity), "key": .string(d.key)])
        case .defineLevel(let level, let name, let rank):
            try customers.defineLevel(id: level, name: name, rank: rank)
            return .object(["levels": .array(try customers.levels().map { .object(["id": .string($0.id), "name": .string($0.name), "rank": .number(Double($0.rank))]) })])
        case .addProspect(let fields, let source):
            let r = try Prospects(db: db).upsert(try ProspectRecord(fields), source: source)
            return .object(["prospect_id": id(r.id), "created": .bool(r.created)])
        case .getProspect(let p):
            guard let v = try Prospects(db: db).get(p) else { throw CustomerError(.notFound, field: "prospect_id", "no prospect \(p.uuidString.lowercased())") }
            return v
        case .prospectToLead(let p):
            return .object(["prospect_id": id(p), "message_id": .string(try Prospects(db: db).toLead(p, actor: actor)), "queued": true])
        case .writeArticle(let a, let version, let fields):
            let r = try KnowledgeBase(db: db).write(a, version: version, fields, actor: actor)
            return .object(["article_id": id(r.id), "version": .number(Double(r.version))])
        case .getArticle(let a, let version):
            let kb = KnowledgeBase(db: db)
            guard let v = try version.map({ try kb.version(a, $0) }) ?? kb.get(a) else {
                throw CustomerError(.notFound, field: "article_id", "no article \(a.uuidString.lowercased())" + (version.map { " version \($0)" } ?? ""))
            }
            return v
        case .articleFeedback(let a, let helpful):
            try KnowledgeBase(db: db).feedback(a, helpful: helpful)
            return .object(["article_id": id(a)])
        case .relateArticles(let a, let others):
            try KnowledgeBase(db: db).relate(a, to: others)
            return .object(["article_id": id(a), "related": .array(others.map(id))])
        }
    }
}
