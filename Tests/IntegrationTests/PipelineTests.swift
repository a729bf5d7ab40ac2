import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run pipeline integration tests"))
struct PipelineIntegrationTests {
    static func d(_ s: String) -> Decimal { Money.parse(s)! }

    @Test(.timeLimit(.minutes(2)))
    func leadToContractKeepsHistoryAndCountsAsADeal() async throws {
        try await SalesIntegrationTests.withRepAndLeads(1) { env, db, leads in
            let lead = leads[0]
            _ = try LeadPool(db: db).claim(rep: "li", count: 1, actor: "t")
            let customer = try CustomerPool(db: db).convert(lead: lead, actor: "t")
            let p = Pipeline(db: db)
            let opp = try p.createOpportunity(customer: customer, name: "CRM 企业版 50 席", amount: Self.d("100000"), expectedClose: "2026-12-31", actor: "li")
            #expect(try env.count("select count(*)::int8 as n from opportunities where id = $1 and owner = 'li' and stage = 'qualify'", [opp]) == 1)
            // An open opportunity keeps the customer from being recycled under a rule that says so.
            try db.query("insert into recycle_rules (pool_id, no_followup_days, warn_days, exclude_open_opportunity) values ('public', 1, 0, true)")
            #expect(try CustomerPool(db: db).recycle(now: Date() + 5 * 86_400).recycled == 0)

            try p.moveStage(opp, to: "needs", actor: "li")
            try p.moveStage(opp, to: "proposal", amount: Self.d("95000"), actor: "li")
            let quote = try p.createQuote(opp, lines: [QuoteLine(product: "席位/年", quantity: 50, unitPrice: Self.d("1800")),
                                                      QuoteLine(product: "实施", quantity: 1, unitPrice: Self.d("10000"), discountPercent: 20)],
                                          discount: Self.d("3000"), taxRate: Self.d("0.06"), validUntil: "2026-12-31", actor: "li")
            #expect(quote.totals.total == Self.d("100700.00"))  // (90000 + 8000 − 3000) × 1.06
            let order = try p.acceptQuote(quote.id, actor: "li")
            #expect(throws: SalesError.self) { try p.acceptQuote(quote.id, actor: "li") }
            #expect(try env.count("select count(*)::int8 as n from opportunities where id = $1 and status = 'won' and amount = 100700", [opp]) == 1)
            #expect(throws: SalesError.self) { try p.moveStage(opp, to: "negotiation", actor: "li") }  // closed
            // The payment plan must add up to the order.
            #expect(throws: SalesError.self) {
                try p.createContract(order: order, number: "HT-2026-001", startsOn: "2026-12-01", endsOn: "2027-11-30",
                                     payments: [Installment(dueOn: "2026-12-10", amount: Self.d("50000"))], actor: "li")
            }
            let contract = try p.createContract(order: order, number: "HT-2026-001", startsOn: "2026-12-01", endsOn: "2027-11-30",
                                                payments: [Installment(dueOn: "2026-12-10", amount: Self.d("30210")),
                                                           Installment(dueOn: "2027-06-10", amount: Self.d("70490"))], actor: "li")
            #expect(try env.count("select count(*)::int8 as n from contract_payments where contract_id = $1", [contract]) == 2)
            #expect(try env.count("select count(*)::int8 as n from customers where id = $1 and last_deal_at is not null", [customer]) == 1)
            // Stage history with time: qualify, needs, proposal, won.
            let stages = try db.query("select to_stage from opportunity_stage_history where opportunity_id = $1 order by at, id", [opp]).map { $0["to_stage"] ?? "" }
            #expect(stages == ["qualify", "needs", "proposal", "won"])
            // The 360° view carries it all, and the lead's history with it.
            let view = try #require(try CustomerView.show(customer, db: db)?.objectValue)
            guard case .array(let opps)? = view["opportunities"], case .array(let contracts)? = view["contracts"],
                  case .array(let leadMoves)? = view["lead_ownership"] else { Issue.record("view shape"); return }
            #expect(opps.count == 1)
            #expect(opps[0].objectValue?["stages"].map { if case .array(let a) = $0 { a.count } else { 0 } } == 4)
            #expect(contracts.first?.objectValue?["payments"].map { if case .array(let a) = $0 { a.count } else { 0 } } == 2)
            #expect(leadMoves.count == 1)
            #expect(try env.count("select count(*)::int8 as n from outbox where routing_key in ('opportunity.created', 'opportunity.stage_changed', 'quote.created', 'order.created', 'contract.signed')") == 7)
        }
    }
}
