import Foundation
import RapportCore
import RapportSupport
import Testing

struct PipelineMathTests {
    static func d(_ s: String) -> Decimal { Money.parse(s)! }

    @Test func quoteTotalsRoundHalfUpPerLineAndTaxOnTheDiscountedSubtotal() throws {
        let lines = [QuoteLine(product: "CRM 企业版 (席位/年)", quantity: 3, unitPrice: Self.d("1999.99"), discountPercent: Self.d("12.5")),
                     QuoteLine(product: "实施服务", quantity: Self.d("1.5"), unitPrice: Self.d("3333.33"))]
        // 3 × 1999.99 × 0.875 = 5249.97375 → 5249.97; 1.5 × 3333.33 = 4999.995 → 5000.00
        #expect(lines.map(\.amount) == [Self.d("5249.97"), Self.d("5000.00")])
        let t = try QuoteTotals.compute(lines, discount: Self.d("249.97"), taxRate: Self.d("0.13"))
        #expect(t.subtotal == Self.d("10249.97"))
        #expect(t.tax == Self.d("1300.00"))
        #expect(t.total == Self.d("11300.00"))
        #expect(Money.text(t.total) == "11300.00")
        #expect(Money.text(Self.d("0.5")) == "0.50")
    }

    @Test(arguments: [
        ([QuoteLine](), "0", "0"),
        ([QuoteLine(product: "x", quantity: 0, unitPrice: 1)], "0", "0"),
        ([QuoteLine(product: "x", quantity: 1, unitPrice: 1, discountPercent: 101)], "0", "0"),
        ([QuoteLine(product: "x", quantity: 1, unitPrice: 10)], "11", "0"),
        ([QuoteLine(product: "x", quantity: 1, unitPrice: 10)], "0", "1.2"),
    ])
    func badQuotesAreRefused(lines: [QuoteLine], discount: String, tax: String) {
        #expect(throws: PipelineRuleError.self) { try QuoteTotals.compute(lines, discount: Self.d(discount), taxRate: Self.d(tax)) }
    }

    @Test func paymentPlansMustAddUpInOrderAndInsideTheContract() throws {
        let plan = [Installment(dueOn: "2026-12-01", amount: Self.d("3390.00")), Installment(dueOn: "2027-06-01", amount: Self.d("7910.00"))]
        try PaymentPlan.validate(plan, amount: Self.d("11300.00"), startsOn: "2026-12-01", endsOn: "2027-11-30")
        #expect(throws: PipelineRuleError.self) { try PaymentPlan.validate(plan, amount: Self.d("11300.01"), startsOn: "2026-12-01", endsOn: "2027-11-30") }
        #expect(throws: PipelineRuleError.self) { try PaymentPlan.validate(plan.reversed(), amount: Self.d("11300"), startsOn: "2026-12-01", endsOn: "2027-11-30") }
        #expect(throws: PipelineRuleError.self) { try PaymentPlan.validate(plan, amount: Self.d("11300"), startsOn: "2026-12-02", endsOn: "2027-11-30") }
        #expect(throws: PipelineRuleError.self) {
            try PaymentPlan.validate([Installment(dueOn: "2027-02-30", amount: 1)], amount: 1, startsOn: "2027-01-01", endsOn: "2027-12-31")
        }
        #expect(Money.parse("1e5") == nil && Money.parse("1,000") == nil && Money.parse("") == nil)
    }
}
