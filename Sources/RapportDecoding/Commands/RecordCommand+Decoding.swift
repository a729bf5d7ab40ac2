import Foundation
import RapportCore
import RapportSupport

extension RecordCommand {
    /// The command and its checked envelope (actor, message id), or a rejection naming the field. Only the
    /// shape is checked here; the record's values are checked where they are applied.
    public static func parse(_ e: InboundEnvelope) throws(InboundRejection) -> (RecordCommand, CommandEnvelope) {
        let envelope = try CommandEnvelope.parse(e)
        return (try Self.command(routingKey: e.routingKey, envelope.fields), envelope)
    }

    static func command(routingKey: String, _ f: CommandFields) throws(InboundRejection) -> RecordCommand {
        if let entity = Self.searchKeys[routingKey] {
            return .search(try Self.query(f.body, entity: entity))
        }
        switch routingKey {
        case "customer.add":
            return .addCustomer(try Self.object(f, "customer"), differentPerson: try f.optionalBool("different_person") ?? false)
        case "customer.edit":
            return .editCustomer(try f.uuid("customer_id"), version: Int(try f.integer("version")), changes: try Self.object(f, "changes"))
        case "customer.delete":
            return .deleteCustomer(try f.uuid("customer_id"), reason: try f.optionalString("reason"))
        case "customer.restore":
            return .restoreCustomer(try f.uuid("customer_id"))
        case "customer.merge":
            return .mergeCustomers(winner: try f.uuid("winner_id"), loser: try f.uuid("loser_id"), reason: try f.optionalString("reason"))
        case "customer.unmerge":
            return .unmergeCustomers(mergeID: try f.integer("merge_id"))
        case "customer.get":
            return .getCustomer(try f.uuid("customer_id"))
        case "customer.history":
            return .customerHistory(try f.uuid("customer_id"))
        case "search.save":
            let (rep, name) = (try f.string("rep_id"), try f.string("name"))
            var body = f.body
            for k in ["rep_id", "name", "actor"] { body[k] = nil }
            return .saveSearch(rep: rep, name: name, try Self.query(body, entity: nil))
        case "search.saved":
            return .savedSearches(rep: try f.string("rep_id"), name: try f.optionalString("name"), after: try f.optionalString("after"))
        case "field.define":
            let entity = try f.optionalChoice("entity", ["customer"]) ?? "customer"
            let (key, label) = (try f.string("key"), try f.string("label"))
            guard let kind = CustomFieldDefinition.Kind(rawValue: try f.string("kind")) else {
                throw InboundRejection(code: .invalidField, reason: "`kind` is text, number, date or option.", field: "kind")
            }
            let options = try f.body["options"].map { v throws(InboundRejection) -> [String] in
                guard case .array(let a) = v, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw InboundRejection(code: .invalidField, reason: "`options` is a list of strings.", field: "options")
                }
                return a.compactMap(\.stringValue)
            } ?? []
            let (required, maxLength) = (try f.optionalBool("required") ?? false, Int(try f.optionalInteger("max_length") ?? 500))
            do {
                return .defineField(entity: entity, try CustomFieldDefinition(
                    key: key, label: label, kind: kind, options: options, required: required, maxLength: maxLength))
            } catch {
                throw InboundRejection(code: .invalidField, reason: error.message, field: error.field)
            }
        case "level.define":
            let id = try f.string("level_id")
            return .defineLevel(id: id, name: try f.optionalString("name") ?? id, rank: Int(try f.integer("rank")))
        case "prospect.add":
            return .addProspect(try Self.object(f, "prospect"), source: try f.optionalString("source") ?? "manual")
        case "prospect.get":
            return .getProspect(try f.uuid("prospect_id"))
        case "prospect.to_lead":
            return .prospectToLead(try f.uuid("prospect_id"))
        case "kb.write":
            let id = f.has("article_id") ? try f.uuid("article_id") : nil
            let version = try f.optionalInteger("version").map { Int($0) }
            if id != nil && version == nil {
                throw InboundRejection(code: .invalidField, reason: "An edit carries the `version` it read.", field: "version")
            }
            return .writeArticle(id, version: version, try Self.object(f, "article"))
        case "kb.get":
            return .getArticle(try f.uuid("article_id"), version: try f.optionalInteger("version").map { Int($0) })
        case "kb.feedback":
            guard let helpful = try f.optionalBool("helpful") else {
                throw InboundRejection(code: .invalidField, reason: "`helpful` is true or false.", field: "helpful")
            }
            return .articleFeedback(try f.uuid("article_id"), helpful: helpful)
        case "kb.relate":
            return .relateArticles(try f.uuid("article_id"), try f.uuids("related_ids"))
        default:
            throw InboundRejection(code: .unknownRoutingKey, reason: "No record command is routed on \(routingKey).", field: "routing_key")
        }
    }

    static func object(_ f: CommandFields, _ key: String) throws(InboundRejection) -> [String: JSONValue] {
        guard let o = f.body[key]?.objectValue else {
            throw InboundRejection(code: .invalidField, reason: "`\(key)` is an object of the record's fields.", field: key)
        }
        return o
    }

    static func query(_ body: [String: JSONValue], entity: SearchQuery.Entity?) throws(InboundRejection) -> SearchQuery {
        var body = body
        body["actor"] = nil
        do {
            return try SearchQuery(json: body, entity: entity)
        } catch {
            throw InboundRejection(code: .invalidField, reason: error.message, field: error.field)
        }
    }
}
