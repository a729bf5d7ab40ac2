import Foundation
import RapportCore
import RapportDecoding
import RapportRuntime
import RapportSupport
import Testing

struct SalesCommandDecodingTests {
    static func d(_ s: String) -> Decimal { Money.parse(s)! }

    static func decode(_ key: String, _ body: String) -> Result<(SalesCommand, actor: String), InboundRejection> {
        SalesCommand.decode(InboundEnvelope(exchange: "rapport.commands", routingKey: key, messageID: "m",
                                            contentType: "application/json", body: Array(body.utf8)))
    }

    @Test func salesCommandsDecode() throws {
        #expect(try Self.decode("lead.claim", #"{"rep_id": "li", "count": 5, "actor": "ui"}"#).get().0 == .claim(rep: "li", count: 5, pool: "default"))
        #expect(try Self.decode("team.upsert", #"{"team_id": "east", "name": "East", "assignment": "least_loaded", "actor": "ui"}"#).get().0
                == .upsertTeam(id: "east", name: "East", assignment: .leastLoaded))
        #expect(try Self.decode("rep.upsert", #"{"rep_id": "li", "active": false, "actor": "ui"}"#).get().0
                == .upsertRep(id: "li", name: nil, team: nil, active: false, capacity: nil))
        let id = "6f1c2a9e-0000-4000-8000-000000000001"
        #expect(try Self.decode("lead.return", #"{"rep_id": "li", "lead_ids": ["\#(id)"], "reason": "wrong number", "actor": "ui"}"#).get().0
                == .giveBack(rep: "li", leads: [UUID(uuidString: id)!], reason: "wrong number"))
    }

    @Test func followUpCommandsDecode() throws {
        let lead = "6f1c2a9e-0000-4000-8000-000000000001"
        let plan = try Self.decode("followup.plan", #"{"lead_id": "\#(lead)", "rep_id": "li", "kind": "visit", "due_at": "2026-11-26T10:00:00+08:00", "actor": "li"}"#).get().0
        #expect(plan == .planFollowUp(subject: .lead(UUID(uuidString: lead)!), rep: "li", kind: .visit,
                                      dueAt: Date(timeIntervalSince1970: 1_795_658_400), note: nil))
        let record = try Self.decode("followup.record", #"{"customer_id": "\#(lead)", "rep_id": "li", "kind": "call", "outcome": "ok", "plan_id": 4, "next_due_at": "2026-11-27T02:00:00.5Z", "actor": "li"}"#).get().0
        guard case .recordFollowUp(.customer, "li", .call, nil, "ok", nil, 4, let next?) = record else { Issue.record("\(record)"); return }
        #expect(next.timeIntervalSince1970 == 1_795_744_800.5)
    }

    @Test(arguments: [
        ("followup.plan", #"{"lead_id": "6f1c2a9e-0000-4000-8000-000000000001", "rep_id": "li", "kind": "fax", "due_at": "2026-11-26T10:00:00+08:00", "actor": "x"}"#, "kind"),
        ("followup.plan", #"{"lead_id": "6f1c2a9e-0000-4000-8000-000000000001", "rep_id": "li", "kind": "call", "due_at": "tomorrow", "actor": "x"}"#, "due_at"),
        ("followup.plan", #"{"rep_id": "li", "kind": "call", "due_at": "2026-11-26T10:00:00+08:00", "actor": "x"}"#, "lead_id"),
    ])
    func badFollowUpCommandsNameTheField(key: String, body: String, field: String) {
        guard case .failure(let r) = Self.decode(key, body) else { Issue.record("accepted \(body)"); return }
        #expect(r.field == field)
    }

    @Test(arguments: [
        ("lead.claim", #"{"rep_id": "li", "count": 0, "actor": "ui"}"#, "count"),
        ("lead.claim", #"{"count": 3, "actor": "ui"}"#, "rep_id"),
        ("lead.return", #"{"rep_id": "li", "lead_ids": [], "reason": "x", "actor": "ui"}"#, "lead_ids"),
        ("lead.return", #"{"rep_id": "li", "lead_ids": ["nope"], "reason": "x", "actor": "ui"}"#, "lead_ids"),
        ("lead.assign", #"{"team_id": "east", "actor": "ui"}"#, "count"),
        ("team.upsert", #"{"team_id": "east", "name": "East", "assignment": "random", "actor": "ui"}"#, "assignment"),
        ("rep.upsert", #"{"rep_id": "li", "capacity": -1, "actor": "ui"}"#, "capacity"),
        ("rep.upsert", #"{"rep_id": "li", "active": "yes", "actor": "ui"}"#, "active"),
    ])
    func badSalesCommandsNameTheField(key: String, body: String, field: String) {
        guard case .failure(let r) = Self.decode(key, body) else { Issue.record("accepted \(body)"); return }
        #expect(r.field == field)
    }

    @Test func pipelineCommandsDecodeAndNameTheFailingLine() throws {
        let opp = "6f1c2a9e-0000-4000-8000-000000000001"
        let q = try Self.decode("quote.create", #"{"opportunity_id": "\#(opp)", "lines": [{"product": "席位", "quantity": 50, "unit_price": "1800.00"}, {"product": "实施", "quantity": 1, "unit_price": 10000, "discount_pct": 20}], "tax_rate": 0.06, "actor": "li"}"#).get().0
        #expect(q == .createQuote(opportunity: UUID(uuidString: opp)!, lines: [
            QuoteLine(product: "席位", quantity: 50, unitPrice: Self.d("1800")),
            QuoteLine(product: "实施", quantity: 1, unitPrice: 10000, discountPercent: 20)], discount: 0, taxRate: Self.d("0.06"), validUntil: nil))
        guard case .failure(let bad) = Self.decode("quote.create", #"{"opportunity_id": "\#(opp)", "lines": [{"product": "a", "quantity": 1, "unit_price": 1}, {"product": "b", "quantity": "lots", "unit_price": 1}], "actor": "li"}"#) else {
            Issue.record("accepted"); return
        }
        #expect(bad.field == "lines[1].quantity")
        guard case .failure(let date) = Self.decode("contract.create", #"{"order_id": "\#(opp)", "number": "HT-1", "starts_on": "2026-13-01", "ends_on": "2027-01-01", "payments": [{"due_on": "2026-12-01", "amount": 1}], "actor": "li"}"#) else {
            Issue.record("accepted"); return
        }
        #expect(date.field == "starts_on")
    }
}
