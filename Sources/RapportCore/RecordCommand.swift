import Foundation
import RapportSupport

/// A command on `rapport.commands` about records people keep: customers (add, edit, delete, restore,
/// merge, unmerge, read, history), searches (run, save, saved), custom fields, prospects and the
/// knowledge base. Bodies carry the record's fields as objects; the store checks their content, so a
/// bad value is answered with a typed error (`invalid`, `unknown_field`, `conflict`, `not_found`).
public enum RecordCommand: Sendable, Hashable {
    case addCustomer([String: JSONValue], differentPerson: Bool)
    case editCustomer(UUID, version: Int, changes: [String: JSONValue])
    case deleteCustomer(UUID, reason: String?)
    case restoreCustomer(UUID)
    case mergeCustomers(winner: UUID, loser: UUID, reason: String?)
    case unmergeCustomers(mergeID: Int64)
    case getCustomer(UUID)
    case customerHistory(UUID)
    case search(SearchQuery)
    case saveSearch(rep: String, name: String, SearchQuery)
    /// A rep's saved searches; with `name`, that search run (from `after`).
    case savedSearches(rep: String, name: String?, after: String?)
    case defineField(entity: String, CustomFieldDefinition)
    /// Adds or renames a customer level; `rank` orders the scale (1 is best).
    case defineLevel(id: String, name: String, rank: Int)
    case addProspect([String: JSONValue], source: String)
    case getProspect(UUID)
    case prospectToLead(UUID)
    case writeArticle(UUID?, version: Int?, [String: JSONValue])
    case getArticle(UUID, version: Int?)
    case articleFeedback(UUID, helpful: Bool)
    case relateArticles(UUID, [UUID])

    /// Routing key → the entity a `*.search` key searches.
    public static let searchKeys: [String: SearchQuery.Entity] = [
        "customer.search": .customers, "lead.search": .leads, "prospect.search": .prospects, "kb.search": .articles,
    ]

    public static let routingKeys = ["customer.add", "customer.edit", "customer.delete", "customer.restore", "customer.merge",
                                     "customer.unmerge", "customer.get", "customer.history", "search.save", "search.saved",
                                     "field.define", "level.define", "prospect.add", "prospect.get", "prospect.to_lead", "kb.write", "kb.get",
                                     "kb.feedback", "kb.relate"] + Self.searchKeys.keys.sorted()

    public var name: String {
        switch self {
        case .addCustomer: "customer.add"
        case .editCustomer: "customer.edit"
        case .deleteCustomer: "customer.delete"
        case .restoreCustomer: "customer.restore"
        case .mergeCustomers: "customer.merge"
        case .unmergeCustomers: "customer.unmerge"
        case .getCustomer: "customer.get"
        case .customerHistory: "customer.history"
        case .search(let q): Self.searchKeys.first { $0.value == q.entity }!.key
        case .saveSearch: "search.save"
        case .savedSearches: "search.saved"
        case .defineField: "field.define"
        case .defineLevel: "level.define"
        case .addProspect: "prospect.add"
        case .getProspect: "prospect.get"
        case .prospectToLead: "prospect.to_lead"
        case .writeArticle: "kb.write"
        case .getArticle: "kb.get"
        case .articleFeedback: "kb.feedback"
        case .relateArticles: "kb.relate"
        }
    }
}
