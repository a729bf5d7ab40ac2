import Foundation
import RapportSupport

/// Who may send which command (issue 12): the actor is the broker-validated `user_id`, mapped to a
/// principal with a role; a rep acts only for themselves, a manager for their team, an admin (or a
/// Rapport worker, `system`) for anyone. The rules are data, one per routing key, so a new command
/// cannot slip through without one (an unlisted key is refused).
public enum CommandAccess {
    public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
        case admin, manager, rep
        case serviceAgent = "service_agent"
        case system
    }

    /// A broker user Rapport knows.
    public struct Principal: Sendable, Hashable {
        public var name: String
        public var role: Role
        /// The rep this principal is (for reps), and the team it belongs to or leads (reps and managers).
        public var repID: String?
        public var teamID: String?

        public init(name: String, role: Role, repID: String? = nil, teamID: String? = nil) {
            self.name = name
            self.role = role
            self.repID = repID
            self.teamID = teamID
        }
    }

    /// Records a command acts on, found by an id field of its body; their owners decide.
    public enum Subject: Sendable, Hashable {
        case customers(String), lead(String), opportunity(String), quote(String), order(String), followUpPlan(String)
    }

    public enum Rule: Sendable, Hashable {
        /// Any principal: reads, searches, the knowledge base.
        case anyone
        /// Admins only (and the system).
        case admins
        /// Managers (within their team when the body names one), admins.
        case managers
        /// Acts for the rep named by the field (a path like `customer.owner`); when the field is absent and
        /// `optional`, anyone but a service agent.
        case rep(String, optional: Bool)
        /// Acts for the team named by the field: its manager, or an admin.
        case team(String)
        /// Acts on records: their owning rep, that rep's manager, or an admin.
        case owner(Subject)
    }

    public static let rules: [String: Rule] = [
        "rep.upsert": .team("team_id"), "team.upsert": .admins,
        "lead.claim": .rep("rep_id", optional: false), "lead.return": .rep("rep_id", optional: false), "lead.assign": .team("team_id"),
        "followup.plan": .rep("rep_id", optional: false), "followup.record": .rep("rep_id", optional: false),
        "followup.cancel": .owner(.followUpPlan("plan_id")), "followup.overdue": .rep("rep_id", optional: true),
        "customer.convert": .owner(.lead("lead_id")), "customer.return": .rep("rep_id", optional: false),
        "customer.add_to_pool": .owner(.customers("customer_ids")), "customer.claim": .rep("rep_id", optional: false),
        "customer.show": .anyone, "opportunity.create": .owner(.customers("customer_id")),
        "opportunity.stage": .owner(.opportunity("opportunity_id")), "quote.create": .owner(.opportunity("opportunity_id")),
        "quote.accept": .owner(.quote("quote_id")), "contract.create": .owner(.order("order_id")),
        "customer.add": .rep("customer.owner", optional: true), "customer.edit": .owner(.customers("customer_id")),
        "customer.delete": .owner(.customers("customer_id")), "customer.restore": .owner(.customers("customer_id")),
        "customer.merge": .managers, "customer.unmerge": .managers, "customer.get": .anyone, "customer.history": .anyone,
        "search.save": .anyone, "search.saved": .anyone, "field.define": .admins, "level.define": .admins,
        "prospect.add": .anyone, "prospect.get": .anyone, "prospect.to_lead": .anyone,
        "kb.write": .anyone, "kb.get": .anyone, "kb.feedback": .anyone, "kb.relate": .anyone,
        "customer.search": .anyone, "lead.search": .anyone, "prospect.search": .anyone, "kb.search": .anyone,
        "identity.merge": .managers, "identity.unmerge": .managers, "identity.review": .managers,
        "identity.erase": .admins,
    ]

    /// The owner of a subject record and that owner's team, as the store found them (`rep` nil: unowned).
    public struct Owner: Sendable, Hashable {
        public var rep: String?
        public var team: String?

        public init(rep: String?, team: String?) {
            self.rep = rep
            self.team = team
        }
    }

    /// The decision, given what the rule needs: `named` is the rep or team the body names (with its team,
    /// for a rep), `owners` the subject records' owners.
    ///
    /// - Returns: `nil` when allowed, else the reason.
    public static func decide(_ p: Principal, routingKey: String, named: Owner?, owners: [Owner]) -> String? {
        guard let rule = Self.rules[routingKey] else { return "no access rule for \(routingKey): refused until one is written" }
        if p.role == .admin || p.role == .system { return nil }
        switch rule {
        case .anyone:
            return nil
        case .admins:
            return "\(routingKey) is for admins; \(p.name) is a \(p.role.rawValue)"
        case .managers:
            guard p.role == .manager else { return "\(routingKey) is for managers and admins; \(p.name) is a \(p.role.rawValue)" }
            return nil
        case .team:
            guard p.role == .manager, let mine = p.teamID else { return "\(routingKey) is for the team's manager; \(p.name) is a \(p.role.rawValue)" }
            guard let team = named?.team, team == mine else {
                return "\(p.name) manages team \(mine), not \(named?.team ?? "(none)")"
            }
            return nil
        case .rep(_, let optional):
            guard let named, named.rep != nil else {
                return optional && p.role != .serviceAgent ? nil : "\(routingKey) names no rep \(p.name) may act for"
            }
            return Self.actsFor(p, [named])
        case .owner:
            return Self.actsFor(p, owners)
        }
    }

    /// A rep for their own records, a manager for their team's.
    static func actsFor(_ p: Principal, _ owners: [Owner]) -> String? {
        for o in owners {
            switch p.role {
            case .rep:
                guard let me = p.repID, o.rep == me else { return "\(p.name) acts only for rep \(p.repID ?? "(none)"), not \(o.rep ?? "an unowned record")" }
            case .manager:
                guard let mine = p.teamID, o.team == mine else {
                    return "\(p.name) manages team \(p.teamID ?? "(none)"); \(o.rep ?? "the record") is in \(o.team ?? "no team")"
                }
            default:
                return "a \(p.role.rawValue) cannot act for a rep"
            }
        }
        return nil
    }
}

extension RejectionCode {
    /// The command's sender may not do this (or is not a Rapport principal).
    public static let forbidden = RejectionCode(rawValue: "forbidden")
}
