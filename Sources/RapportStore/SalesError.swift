import Foundation

/// A refusal a sales front end can act on: a stable code and one sentence.
public struct SalesError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong; its raw value is the `code` of the command's error reply.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The lead, customer, rep, team, pool, opportunity, quote or order does not exist.
        public static let notFound = Code("not_found")
        /// The rep has left (or is switched off) and cannot be given work.
        public static let inactiveRep = Code("inactive_rep")
        /// A claim rule (per claim, per day, held) allows no more.
        public static let limitReached = Code("limit_reached")
        /// The rep does not own what they tried to give back.
        public static let notOwner = Code("not_owner")
        /// The rep is not in the team that was named.
        public static let notMember = Code("not_member")
        /// The request breaks a rule (a closed opportunity, a bad date, a total that does not add up).
        public static let invalid = Code("invalid")

        public var description: String { self.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
