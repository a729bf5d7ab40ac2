import Foundation
import RapportCore
import RapportDecoding
import RapportPostgres
import RapportStore
import RapportSupport

/// Decides whether a command's sender may send it, before its handler runs: the sender is the
/// broker-validated `user_id` (never a body field), looked up in `principals`, and the decision is
/// ``CommandAccess``'s. Every refusal is recorded in `access_refusals`.
struct CommandAuthorizer: Sendable {
    /// The principal the command runs as, or the refusal.
    func authorize(_ e: InboundEnvelope, db: PGConnection) throws -> Result<CommandAccess.Principal, InboundRejection> {
        let principals = Principals(db: db)
        func refuse(_ who: String?, _ reason: String) throws -> Result<CommandAccess.Principal, InboundRejection> {
            try principals.refused(principal: who, routingKey: e.routingKey, messageID: e.messageID, reason: reason)
            return .failure(InboundRejection(code: .forbidden, reason: reason, field: "user_id"))
        }
        guard let user = e.userID, !user.isEmpty else {
            return try refuse(nil, "Commands must carry user_id (the broker checks it against the sender's login).")
        }
        guard let principal = try principals.find(user) else {
            return try refuse(user, "\(user) is not a Rapport principal (rapport principal add).")
        }
        // An unreadable body names nothing; the handler refuses it for what it is.
        let body = (try? JSONValue.parse(e.body))?.objectValue ?? [:]
        var named: CommandAccess.Owner?
        var owners: [CommandAccess.Owner] = []
        switch CommandAccess.rules[e.routingKey] {
        case .rep(let path, _)?:
            if let rep = Self.value(body, path).first { named = try principals.rep(rep) }
        case .team(let field)?:
            if let team = Self.value(body, field).first { named = CommandAccess.Owner(rep: nil, team: team) }
        case .owner(let subject)?:
            owners = try principals.owners(subject, ids: Self.value(body, Self.field(subject)))
        default:
            break
        }
        if let reason = CommandAccess.decide(principal, routingKey: e.routingKey, named: named, owners: owners) {
            return try refuse(user, reason)
        }
        return .success(principal)
    }

    static func field(_ s: CommandAccess.Subject) -> String {
        switch s {
        case .customers(let f), .lead(let f), .opportunity(let f), .quote(let f), .order(let f), .followUpPlan(let f): f
        }
    }

    /// The strings at a dotted path: one value, or each element of an array (ids as numbers too).
    static func value(_ body: [String: JSONValue], _ path: String) -> [String] {
        var node: JSONValue = .object(body)
        for part in path.split(separator: ".") {
            guard let next = node.objectValue?[String(part)] else { return [] }
            node = next
        }
        func text(_ v: JSONValue) -> String? {
            switch v {
            case .string(let s): return s
            case .number(let n): return n == n.rounded() ? String(Int64(n)) : String(n)
            default: return nil
            }
        }
        if let array = node.arrayValue { return array.compactMap(text) }
        return text(node).map { [$0] } ?? []
    }
}
