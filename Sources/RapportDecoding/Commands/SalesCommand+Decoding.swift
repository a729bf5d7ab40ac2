import Foundation
import RapportCore
import RapportSupport

extension SalesCommand {
    /// Decodes one command message: the command and who asked, or a rejection naming the field that failed.
    public static func decode(_ e: InboundEnvelope) -> Result<(SalesCommand, actor: String), InboundRejection> {
        Result { () throws(InboundRejection) in
            let (command, envelope) = try Self.parse(e)
            return (command, envelope.actor)
        }
    }

    /// ``decode(_:)`` with typed throws, and the checked envelope (actor, message id).
    public static func parse(_ e: InboundEnvelope) throws(InboundRejection) -> (SalesCommand, CommandEnvelope) {
        let envelope = try CommandEnvelope.parse(e)
        return (try Self.command(routingKey: e.routingKey, envelope.fields), envelope)
    }

    // Arguments are read left to right, so the first bad field in the body's documented order is the one named.
    static func command(routingKey: String, _ f: CommandFields) throws(InboundRejection) -> SalesCommand {
        switch routingKey {
        case "rep.upsert":
            return .upsertRep(id: try f.string("rep_id"), name: try f.optionalString("name"), team: try f.optionalString("team_id"),
                              active: try f.optionalBool("active"), capacity: try f.optionalInteger("capacity", minimum: 0).map { Int($0) })
        case "team.upsert":
            let (id, name) = (try f.string("team_id"), try f.string("name"))
            guard let policy = AssignmentPolicy(rawValue: try f.optionalString("assignment") ?? "round_robin") else {
                throw InboundRejection(code: .invalidField, reason: "`assignment` is round_robin or least_loaded.", field: "assignment")
            }
            return .upsertTeam(id: id, name: name, assignment: policy)
        case "lead.claim":
            return .claim(rep: try f.string("rep_id"), count: Int(try f.integer("count")), pool: try f.optionalString("pool") ?? "default")
        case "lead.return":
            return .giveBack(rep: try f.string("rep_id"), leads: try f.uuids("lead_ids"), reason: try f.string("reason"))
        case "lead.assign":
            let (team, count, pool, leads) = (try f.string("team_id"), try f.optionalInteger("count"), try f.optionalString("pool"),
                                              try f.optionalUUIDs("lead_ids"))
            if count == nil && leads == nil {
                throw InboundRejection(code: .invalidField, reason: "Give `count` or `lead_ids`.", field: "count")
            }
            return .assign(team: team, count: count.map { Int($0) }, leads: leads, pool: pool ?? "default")
        case "followup.plan":
            return .planFollowUp(subject: try f.subject(), rep: try f.string("rep_id"), kind: try Self.kind(f), dueAt: try f.date("due_at"),
                                 note: try f.optionalString("note"))
        case "followup.record":
            return .recordFollowUp(subject: try f.subject(), rep: try f.string("rep_id"), kind: try Self.kind(f),
                                   happenedAt: try f.optionalDate("happened_at"), outcome: try f.string("outcome"),
                                   nextStep: try f.optionalString("next_step"), plan: try f.optionalInteger("plan_id"),
                                   nextDueAt: try f.optionalDate("next_due_at"))
        case "followup.cancel":
            return .cancelFollowUp(plan: try f.integer("plan_id"))
        case "followup.overdue":
            return .overdue(rep: try f.optionalString("rep_id"))
        case "customer.convert":
            return .convertLead(lead: try f.uuid("lead_id"), level: try f.optionalString("level") ?? "C")
        case "customer.return":
            return .returnCustomers(rep: try f.string("rep_id"), customers: try f.uuids("customer_ids"), reason: try f.string("reason"),
                                    pool: try f.optionalString("pool") ?? "public")
        case "customer.add_to_pool":
            return .addToPublicPool(customers: try f.uuids("customer_ids"), pool: try f.optionalString("pool") ?? "public",
                                    reason: try f.optionalString("reason"))
        case "customer.claim":
            return .claimCustomers(rep: try f.string("rep_id"), count: Int(try f.integer("count")), pool: try f.optionalString("pool") ?? "public")
        case "customer.show":
            return .showCustomer(try f.uuid("customer_id"))
        case "opportunity.create":
            return .createOpportunity(customer: try f.uuid("customer_id"), name: try f.string("name"), owner: try f.optionalString("owner"),
                                      stage: try f.optionalString("stage") ?? "qualify", amount: try f.decimal("amount"),
                                      currency: try f.optionalString("currency") ?? "CNY", expectedClose: try f.optionalDay("expected_close"))
        case "opportunity.stage":
            return .moveOpportunity(try f.uuid("opportunity_id"), stage: try f.string("stage"), amount: try f.optionalDecimal("amount"))
        case "quote.create":
            let opportunity = try f.uuid("opportunity_id")
            let lines = try f.objects("lines") { (l: CommandFields) throws(InboundRejection) in
                QuoteLine(product: try l.string("product"), quantity: try l.decimal("quantity"), unitPrice: try l.decimal("unit_price"),
                          discountPercent: try l.optionalDecimal("discount_pct") ?? 0)
            }
            return .createQuote(opportunity: opportunity, lines: lines, discount: try f.optionalDecimal("discount") ?? 0,
                                taxRate: try f.optionalDecimal("tax_rate") ?? 0, validUntil: try f.optionalDay("valid_until"))
        case "quote.accept":
            return .acceptQuote(try f.uuid("quote_id"))
        case "contract.create":
            let (order, number, starts, ends) = (try f.uuid("order_id"), try f.string("number"), try f.day("starts_on"), try f.day("ends_on"))
            let payments = try f.objects("payments") { (p: CommandFields) throws(InboundRejection) in
                Installment(dueOn: try p.day("due_on"), amount: try p.decimal("amount"))
            }
            return .createContract(order: order, number: number, startsOn: starts, endsOn: ends, payments: payments)
        default:
            throw InboundRejection(code: .unknownRoutingKey, reason: "No sales command is routed on \(routingKey).", field: "routing_key")
        }
    }

    static func kind(_ f: CommandFields) throws(InboundRejection) -> FollowUpKind {
        guard let kind = FollowUpKind(rawValue: try f.string("kind")) else {
            throw InboundRejection(code: .invalidField,
                                   reason: "`kind` is one of \(FollowUpKind.allCases.map(\.rawValue).joined(separator: ", ")).", field: "kind")
        }
        return kind
    }
}
