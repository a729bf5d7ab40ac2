import RapportSupport
import Foundation

/// What a follow-up is about.
public enum FollowUpSubject: Sendable, Hashable {
    case lead(UUID)
    case customer(UUID)
}

/// How a rep follows up.
public enum FollowUpKind: String, Sendable, Hashable, CaseIterable {
    case call, visit, message, email, meeting
}

/// A command of the sales front end on `rapport.commands`: reps and teams, the lead pool, follow-ups.
public enum SalesCommand: Sendable, Hashable {
    case upsertRep(id: String, name: String?, team: String?, active: Bool?, capacity: Int?)
    case upsertTeam(id: String, name: String, assignment: AssignmentPolicy)
    case claim(rep: String, count: Int, pool: String)
    case giveBack(rep: String, leads: [UUID], reason: String)
    case assign(team: String, count: Int?, leads: [UUID]?, pool: String)
    case planFollowUp(subject: FollowUpSubject, rep: String, kind: FollowUpKind, dueAt: Date, note: String?)
    /// What happened; closes `plan` if given, and plans the next step if `nextDueAt` is given.
    case recordFollowUp(subject: FollowUpSubject, rep: String, kind: FollowUpKind, happenedAt: Date?, outcome: String,
                        nextStep: String?, plan: Int64?, nextDueAt: Date?)
    case cancelFollowUp(plan: Int64)
    case overdue(rep: String?)
    case convertLead(lead: UUID, level: String)
    case returnCustomers(rep: String, customers: [UUID], reason: String, pool: String)
    case addToPublicPool(customers: [UUID], pool: String, reason: String?)
    case claimCustomers(rep: String, count: Int, pool: String)
    case showCustomer(UUID)
    case createOpportunity(customer: UUID, name: String, owner: String?, stage: String, amount: Decimal, currency: String, expectedClose: String?)
    case moveOpportunity(UUID, stage: String, amount: Decimal?)
    case createQuote(opportunity: UUID, lines: [QuoteLine], discount: Decimal, taxRate: Decimal, validUntil: String?)
    case acceptQuote(UUID)
    case createContract(order: UUID, number: String, startsOn: String, endsOn: String, payments: [Installment])

    public static let routingKeys = ["rep.upsert", "team.upsert", "lead.claim", "lead.return", "lead.assign",
                                     "followup.plan", "followup.record", "followup.cancel", "followup.overdue",
                                     "customer.convert", "customer.return", "customer.add_to_pool", "customer.claim", "customer.show",
                                     "opportunity.create", "opportunity.stage", "quote.create", "quote.accept", "contract.create"]

    public var name: String {
        switch self {
        case .upsertRep: "rep.upsert"
        case .upsertTeam: "team.upsert"
        case .claim: "lead.claim"
        case .giveBack: "lead.return"
        case .assign: "lead.assign"
        case .planFollowUp: "followup.plan"
        case .recordFollowUp: "followup.record"
        case .cancelFollowUp: "followup.cancel"
        case .overdue: "followup.overdue"
        case .convertLead: "customer.convert"
        case .returnCustomers: "customer.return"
        case .addToPublicPool: "customer.add_to_pool"
        case .claimCustomers: "customer.claim"
        case .showCustomer: "customer.show"
        case .createOpportunity: "opportunity.create"
        case .moveOpportunity: "opportunity.stage"
        case .createQuote: "quote.create"
        case .acceptQuote: "quote.accept"
        case .createContract: "contract.create"
        }
    }
}
