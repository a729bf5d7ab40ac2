import RapportSupport
import Foundation

public struct QuoteLine: Sendable, Hashable {
    public var product: String
    public var quantity: Decimal
    public var unitPrice: Decimal
    /// Percent off this line, 0…100.
    public var discountPercent: Decimal

    public init(product: String, quantity: Decimal, unitPrice: Decimal, discountPercent: Decimal = 0) {
        self.product = product
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.discountPercent = discountPercent
    }

    /// quantity × unit price × (1 − discount), to the cent.
    public var amount: Decimal { Money.cents(self.quantity * self.unitPrice * (100 - self.discountPercent) / 100) }
}

public struct QuoteTotals: Sendable, Hashable {
    public var subtotal: Decimal
    public var discount: Decimal
    public var tax: Decimal
    public var total: Decimal

    /// Subtotal of the line amounts, less a quote-level discount, plus tax on what remains.
    public static func compute(_ lines: [QuoteLine], discount: Decimal = 0, taxRate: Decimal = 0) throws -> QuoteTotals {
        guard !lines.isEmpty else { throw PipelineRuleError(.invalidQuote, "a quote needs at least one line") }
        for (i, l) in lines.enumerated() {
            guard l.quantity > 0 else { throw PipelineRuleError(.invalidQuote, "line \(i + 1): quantity must be positive") }
            guard l.unitPrice >= 0 else { throw PipelineRuleError(.invalidQuote, "line \(i + 1): unit price must not be negative") }
            guard l.discountPercent >= 0 && l.discountPercent <= 100 else { throw PipelineRuleError(.invalidQuote, "line \(i + 1): discount is 0 to 100 percent") }
        }
        guard taxRate >= 0 && taxRate < 1 else { throw PipelineRuleError(.invalidQuote, "tax rate is a fraction, 0 to 1 (0.13 for 13%)") }
        let subtotal = lines.reduce(Decimal(0)) { $0 + $1.amount }
        let discount = Money.cents(discount)
        guard discount >= 0 && discount <= subtotal else { throw PipelineRuleError(.invalidQuote, "the discount must be between 0 and the subtotal") }
        let tax = Money.cents((subtotal - discount) * taxRate)
        return QuoteTotals(subtotal: subtotal, discount: discount, tax: tax, total: subtotal - discount + tax)
    }
}

public struct Installment: Sendable, Hashable {
    public var dueOn: String  // yyyy-mm-dd
    public var amount: Decimal
    public init(dueOn: String, amount: Decimal) {
        self.dueOn = dueOn
        self.amount = amount
    }
}

public enum PaymentPlan {
    /// A plan must pay exactly the contract amount, in positive installments, in date order, within the
    /// contract's dates (ISO dates compare as text).
    public static func validate(_ plan: [Installment], amount: Decimal, startsOn: String, endsOn: String) throws {
        guard !plan.isEmpty else { throw PipelineRuleError(.invalidPaymentPlan, "a payment plan needs at least one installment") }
        guard startsOn <= endsOn else { throw PipelineRuleError(.invalidPaymentPlan, "the contract ends before it starts") }
        var previous = ""
        for (i, p) in plan.enumerated() {
            guard CivilCalendar.isValidISODate(p.dueOn) else { throw PipelineRuleError(.invalidPaymentPlan, "installment \(i + 1): due date is not yyyy-mm-dd") }
            guard p.amount > 0 else { throw PipelineRuleError(.invalidPaymentPlan, "installment \(i + 1): amount must be positive") }
            guard p.dueOn >= previous else { throw PipelineRuleError(.invalidPaymentPlan, "installment \(i + 1): due dates must not go back") }
            guard p.dueOn >= startsOn && p.dueOn <= endsOn else { throw PipelineRuleError(.invalidPaymentPlan, "installment \(i + 1): due outside the contract's dates") }
            previous = p.dueOn
        }
        let sum = plan.reduce(Decimal(0)) { $0 + Money.cents($1.amount) }
        guard sum == Money.cents(amount) else {
            throw PipelineRuleError(.invalidPaymentPlan, "installments add up to \(Money.text(sum)), the contract is \(Money.text(amount))")
        }
    }
}
