import Foundation

/// A quote or payment plan that breaks the pipeline's rules.
public struct PipelineRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        /// A quote line, its discount or the tax rate is out of range.
        public static let invalidQuote = Code("invalid_quote")
        /// Installments that do not fit the contract.
        public static let invalidPaymentPlan = Code("invalid_payment_plan")
        public var description: String { self.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}
