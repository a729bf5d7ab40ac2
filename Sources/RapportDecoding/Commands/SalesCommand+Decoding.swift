import Foundation
import RapportCore
import RapportSupport

extension SalesCommand {
    public static func decode(_ e: InboundEnvelope) -> Result<(SalesCommand, actor: String), InboundRejection> {
        CommandEnvelope.parse(e).flatMap { body, actor in
            let f = CommandEnvelope.Fields(body)
            let command: Result<SalesCommand, InboundRejection>
            switch e.routingKey {
            case "rep.upsert":
                command = f.string("rep_id").flatMap { id in f.optionalString("name").flatMap { name in
                    f.optionalString("team_id").flatMap { team in f.optionalBool("active").flatMap { active in
                        f.integer("capacity", required: false, minimum: 0).map { cap in
                            .upsertRep(id: id, name: name, team: team, active: active, capacity: cap.map { Int($0) })
                        } } } } }
            case "team.upsert":
                command = f.string("team_id").flatMap { id in f.string("name").flatMap { name in
                    f.optionalString("assignment").flatMap { a in
                        guard let policy = AssignmentPolicy(rawValue: a ?? "round_robin") else {
                            return .failure(.init(code: .invalidField, reason: "`assignment` is round_robin or least_loaded.", field: "assignment"))
                        }
                        return .success(.upsertTeam(id: id, name: name, assignment: policy))
                    } } }
            case "lead.claim":
                command = f.string("rep_id").flatMap { rep in f.integer("count").flatMap { n in
                    f.optionalString("pool").map { .claim(rep: rep, count: Int(n!), pool: $0 ?? "default") } } }
            case "lead.return":
                command = f.string("rep_id").flatMap { rep in f.uuids("lead_ids").flatMap { ids in
                    f.string("reason").map { .giveBack(rep: rep, leads: ids, reason: $0) } } }
            case "lead.assign":
                command = f.string("team_id").flatMap { team in f.integer("count", required: false).flatMap { n in
                    f.optionalString("pool").flatMap { pool in
                        let leads: Result<[UUID]?, InboundRejection> = body["lead_ids"] == nil ? .success(nil) : f.uuids("lead_ids").map { $0 }
                        return leads.flatMap { ids in
                            n == nil && ids == nil
                                ? .failure(.init(code: .invalidField, reason: "Give `count` or `lead_ids`.", field: "count"))
                                : .success(.assign(team: team, count: n.map { Int($0) }, leads: ids, pool: pool ?? "default"))
                        }
                    } } }
            case "followup.plan":
                command = f.subject().flatMap { subject in f.string("rep_id").flatMap { rep in Self.kind(f).flatMap { kind in
                    f.date("due_at").flatMap { due in f.optionalString("note").map { note in
                        .planFollowUp(subject: subject, rep: rep, kind: kind, dueAt: due!, note: note)
                    } } } } }
            case "followup.record":
                command = f.subject().flatMap { subject in f.string("rep_id").flatMap { rep in Self.kind(f).flatMap { kind in
                    f.date("happened_at", required: false).flatMap { at in f.string("outcome").flatMap { outcome in
                        f.optionalString("next_step").flatMap { next in f.integer("plan_id", required: false).flatMap { plan in
                            f.date("next_due_at", required: false).map { nextDue in
                                .recordFollowUp(subject: subject, rep: rep, kind: kind, happenedAt: at, outcome: outcome,
                                                nextStep: next, plan: plan, nextDueAt: nextDue)
                            } } } } } } } }
            case "followup.cancel":
                command = f.integer("plan_id").map { .cancelFollowUp(plan: $0!) }
            case "followup.overdue":
                command = f.optionalString("rep_id").map { .overdue(rep: $0) }
            case "customer.convert":
                command = f.uuid("lead_id").flatMap { lead in f.optionalString("level").map { .convertLead(lead: lead, level: $0 ?? "C") } }
            case "customer.return":
                command = f.string("rep_id").flatMap { rep in f.uuids("customer_ids").flatMap { ids in f.string("reason").flatMap { reason in
                    f.optionalString("pool").map { .returnCustomers(rep: rep, customers: ids, reason: reason, pool: $0 ?? "public") } } } }
            case "customer.add_to_pool":
                command = f.uuids("customer_ids").flatMap { ids in f.optionalString("pool").flatMap { pool in
                    f.optionalString("reason").map { .addToPublicPool(customers: ids, pool: pool ?? "public", reason: $0) } } }
            case "customer.claim":
                command = f.string("rep_id").flatMap { rep in f.integer("count").flatMap { n in
                    f.optionalString("pool").map { .claimCustomers(rep: rep, count: Int(n!), pool: $0 ?? "public") } } }
            case "customer.show":
                command = f.uuid("customer_id").map { .showCustomer($0) }
            case "opportunity.create":
                command = f.uuid("customer_id").flatMap { c in f.string("name").flatMap { name in f.optionalString("owner").flatMap { owner in
                    f.optionalString("stage").flatMap { stage in f.decimal("amount").flatMap { amount in f.optionalString("currency").flatMap { cur in
                        f.day("expected_close", required: false).map { close in
                            .createOpportunity(customer: c, name: name, owner: owner, stage: stage ?? "qualify", amount: amount!,
                                               currency: cur ?? "CNY", expectedClose: close)
                        } } } } } } }
            case "opportunity.stage":
                command = f.uuid("opportunity_id").flatMap { id in f.string("stage").flatMap { stage in
                    f.decimal("amount", required: false).map { .moveOpportunity(id, stage: stage, amount: $0) } } }
            case "quote.create":
                let lines = f.objects("lines") { l in
                    l.string("product").flatMap { p in l.decimal("quantity").flatMap { q in l.decimal("unit_price").flatMap { u in
                        l.decimal("discount_pct", required: false).map { d in
                            QuoteLine(product: p, quantity: q!, unitPrice: u!, discountPercent: d ?? 0) } } } }
                }
                command = f.uuid("opportunity_id").flatMap { opp in lines.flatMap { lines in f.decimal("discount", required: false).flatMap { disc in
                    f.decimal("tax_rate", required: false).flatMap { tax in f.day("valid_until", required: false).map { until in
                        .createQuote(opportunity: opp, lines: lines, discount: disc ?? 0, taxRate: tax ?? 0, validUntil: until)
                    } } } } }
            case "quote.accept":
                command = f.uuid("quote_id").map { .acceptQuote($0) }
            case "contract.create":
                let payments = f.objects("payments") { p in
                    p.day("due_on").flatMap { d in p.decimal("amount").map { Installment(dueOn: d!, amount: $0!) } }
                }
                command = f.uuid("order_id").flatMap { order in f.string("number").flatMap { number in f.day("starts_on").flatMap { start in
                    f.day("ends_on").flatMap { end in payments.map { plan in
                        .createContract(order: order, number: number, startsOn: start!, endsOn: end!, payments: plan)
                    } } } } }
            default:
                command = .failure(.init(code: .unknownRoutingKey, reason: "No sales command is routed on \(e.routingKey).", field: "routing_key"))
            }
            return command.map { ($0, actor) }
        }
    }

    static func kind(_ f: CommandEnvelope.Fields) -> Result<FollowUpKind, InboundRejection> {
        f.string("kind").flatMap { k in
            FollowUpKind(rawValue: k).map { .success($0) }
                ?? .failure(.init(code: .invalidField, reason: "`kind` is one of \(FollowUpKind.allCases.map(\.rawValue).joined(separator: ", ")).", field: "kind"))
        }
    }
}
