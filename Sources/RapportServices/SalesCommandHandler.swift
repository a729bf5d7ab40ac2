import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportCore
import RapportSupport
import RapportPostgres

/// Reps, teams and the lead pool by command (`rep.upsert`, `team.upsert`, `lead.claim`, `lead.return`,
/// `lead.assign`). Each message id is applied once; a redelivered command gets its first reply again.
/// Refusals by the rules (a limit reached, a lead not owned) are answers, not dead letters.
public struct SalesCommandHandler: CommandHandler {
    /// Opens sealed messages in the customer view.
    let keyring: Keyring?
    public init(keyring: Keyring? = nil) { self.keyring = keyring }

    public func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome {
        try self.applyOnce(e, db: db, parse: SalesCommand.parse, name: \.name) { command, actor in
            try Self.execute(command, actor: actor, db: db, keyring: self.keyring)
        }
    }

    static func execute(_ command: SalesCommand, actor: String, db: PGConnection, keyring: Keyring? = nil) throws -> JSONValue {
        let pool = LeadPool(db: db)
        func ids(_ u: [UUID]) -> JSONValue { .array(u.map { .string($0.uuidString.lowercased()) }) }
        switch command {
        case .upsertRep(let id, let name, let team, let active, let capacity):
            try pool.upsertRep(id: id, name: name, team: team, active: active, capacity: capacity)
            return .object(["rep_id": .string(id)])
        case .upsertTeam(let id, let name, let assignment):
            try pool.upsertTeam(id: id, name: name, assignment: assignment)
            return .object(["team_id": .string(id)])
        case .claim(let rep, let count, let poolID):
            let r = try pool.claim(rep: rep, count: count, pool: poolID, actor: actor)
            return .object(["lead_ids": ids(r.leads), "count": .number(Double(r.leads.count)),
                            "limited_by": r.limitedBy.map { .string($0) } ?? .null])
        case .giveBack(let rep, let leads, let reason):
            return .object(["returned": .number(Double(try pool.giveBack(leads, rep: rep, reason: reason, actor: actor)))])
        case .assign(let team, let count, let leads, let poolID):
            let pairs = try pool.assign(team: team, count: count, leads: leads, pool: poolID, actor: actor)
            return .object(["assignments": .array(pairs.map {
                .object(["lead_id": .string($0.lead.uuidString.lowercased()), "rep_id": .string($0.rep)])
            })])
        case .planFollowUp(let subject, let rep, let kind, let dueAt, let note):
            let id = try FollowUps(db: db).plan(subject, rep: rep, kind: kind, dueAt: dueAt, note: note, actor: actor)
            return .object(["plan_id": .number(Double(id))])
        case .recordFollowUp(let subject, let rep, let kind, let at, let outcome, let next, let plan, let nextDue):
            let r = try FollowUps(db: db).record(subject, rep: rep, kind: kind, happenedAt: at ?? Date(), outcome: outcome,
                                                  nextStep: next, plan: plan, nextDueAt: nextDue, actor: actor)
            return .object(["record_id": .number(Double(r.record)), "next_plan_id": r.nextPlan.map { .number(Double($0)) } ?? .null])
        case .cancelFollowUp(let plan):
            try FollowUps(db: db).cancel(plan, actor: actor)
            return .object(["plan_id": .number(Double(plan))])
        case .convertLead(let lead, let level):
            let id = try CustomerPool(db: db).convert(lead: lead, level: level, actor: actor)
            return .object(["customer_id": .string(id.uuidString.lowercased())])
        case .returnCustomers(let rep, let customers, let reason, let poolID):
            return .object(["returned": .number(Double(try CustomerPool(db: db).giveBack(customers, rep: rep, reason: reason, pool: poolID, actor: actor)))])
        case .addToPublicPool(let customers, let poolID, let reason):
            return .object(["added": .number(Double(try CustomerPool(db: db).add(customers, pool: poolID, reason: reason, actor: actor)))])
        case .claimCustomers(let rep, let count, let poolID):
            let r = try CustomerPool(db: db).claim(rep: rep, count: count, pool: poolID, actor: actor)
            return .object(["customer_ids": ids(r.leads), "count": .number(Double(r.leads.count)),
                            "limited_by": r.limitedBy.map { .string($0) } ?? .null])
        case .showCustomer(let id):
            guard let view = try CustomerView.show(id, db: db, keyring: keyring) else { throw SalesError(.notFound, "no customer \(id.uuidString.lowercased())") }
            return view
        case .createOpportunity(let customer, let name, let owner, let stage, let amount, let currency, let close):
            let id = try Pipeline(db: db).createOpportunity(customer: customer, name: name, owner: owner, stage: stage, amount: amount,
                                                            currency: currency, expectedClose: close, actor: actor)
            return .object(["opportunity_id": .string(id.uuidString.lowercased())])
        case .moveOpportunity(let id, let stage, let amount):
            try Pipeline(db: db).moveStage(id, to: stage, amount: amount, actor: actor)
            return .object(["opportunity_id": .string(id.uuidString.lowercased()), "stage": .string(stage)])
        case .createQuote(let opp, let lines, let discount, let taxRate, let until):
            let q = try Pipeline(db: db).createQuote(opp, lines: lines, discount: discount, taxRate: taxRate, validUntil: until, actor: actor)
            return .object(["quote_id": .string(q.id.uuidString.lowercased()), "subtotal": .string(Money.text(q.totals.subtotal)),
                            "discount": .string(Money.text(q.totals.discount)), "tax": .string(Money.text(q.totals.tax)),
                            "total": .string(Money.text(q.totals.total))])
        case .acceptQuote(let quote):
            return .object(["order_id": .string(try Pipeline(db: db).acceptQuote(quote, actor: actor).uuidString.lowercased())])
        case .createContract(let order, let number, let start, let end, let payments):
            let id = try Pipeline(db: db).createContract(order: order, number: number, startsOn: start, endsOn: end, payments: payments, actor: actor)
            return .object(["contract_id": .string(id.uuidString.lowercased())])
        case .overdue(let rep):
            return .object(["overdue": .array(try FollowUps(db: db).overdue(rep: rep).map { o in
                .object(["plan_id": .number(Double(o.plan)), "rep_id": .string(o.rep), "kind": .string(o.kind),
                         "due_at": .string(ISO8601.string(o.dueAt)), "note": o.note.map { .string($0) } ?? .null,
                         "lead_id": o.lead.map { .string($0.uuidString.lowercased()) } ?? .null,
                         "customer_id": o.customer.map { .string($0.uuidString.lowercased()) } ?? .null])
            })])
        }
    }
}
