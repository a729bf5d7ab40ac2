/// A stable, machine-readable error code. Each error type has its own (`Owner`), so the codes of two
/// errors never mix; each declares its codes as `static let`s in an extension.
public struct ErrorCode<Owner>: Hashable, Sendable, CustomStringConvertible {
    /// The code as it goes on the wire and into logs, e.g. `not_found`.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { self.rawValue }
}
