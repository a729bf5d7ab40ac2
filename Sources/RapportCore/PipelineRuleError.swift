import Foundation
import RapportSupport

/// A quote or payment plan that breaks the pipeline's rules.
public struct PipelineRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public typealias Code = ErrorCode<PipelineRuleError>

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}

extension ErrorCode where Owner == PipelineRuleError {
    /// A quote line, its discount or the tax rate is out of range.
    public static let invalidQuote = Self("invalid_quote")
    /// Installments that do not fit the contract.
    public static let invalidPaymentPlan = Self("invalid_payment_plan")
}
