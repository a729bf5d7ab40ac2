import Foundation
import RapportSupport

/// The topology file is inconsistent.
public struct TopologyError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public typealias Code = ErrorCode<TopologyError>

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "topology: \(self.message)" }
}

extension ErrorCode where Owner == TopologyError {
    /// The file cannot be read or is not JSON.
    public static let unreadable = Self("unreadable")
    /// A binding or dead-letter exchange names something not declared, or a field is malformed.
    public static let inconsistent = Self("inconsistent")
}
