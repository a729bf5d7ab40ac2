import RapportSupport
import Foundation

public struct PipelineRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { self.description = d }
}
