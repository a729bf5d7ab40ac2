import Foundation
import RapportSupport

/// A refusal a sales front end can act on: a stable code and one sentence.
public struct SalesError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public typealias Code = ErrorCode<SalesError>

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}

extension ErrorCode where Owner == SalesError {
    /// The lead, customer, rep, team, pool, opportunity, quote or order does not exist.
    public static let notFound = Self("not_found")
    /// The rep has left (or is switched off) and cannot be given work.
    public static let inactiveRep = Self("inactive_rep")
    /// A claim rule (per claim, per day, held) allows no more.
    public static let limitReached = Self("limit_reached")
    /// The rep does not own what they tried to give back.
    public static let notOwner = Self("not_owner")
    /// The rep is not in the team that was named.
    public static let notMember = Self("not_member")
    /// The request breaks a rule (a closed opportunity, a bad date, a total that does not add up).
    public static let invalid = Self("invalid")
}
