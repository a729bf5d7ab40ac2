import RapportSupport
import Foundation

/// A lead pool's claim rules.
public struct PoolRules: Sendable, Hashable {
    /// Most leads one claim may take.
    public var maxPerClaim: Int
    /// Most leads a rep may claim from the pool in one day.
    public var maxPerDay: Int
    /// Most leads a rep may hold at once (the rep's own capacity may be lower).
    public var maxHeld: Int
    /// A rep may not re-claim a lead they returned within this many days.
    public var reclaimBarDays: Int

    public init(maxPerClaim: Int = 20, maxPerDay: Int = 100, maxHeld: Int = 200, reclaimBarDays: Int = 7) {
        self.maxPerClaim = maxPerClaim
        self.maxPerDay = maxPerDay
        self.maxHeld = maxHeld
        self.reclaimBarDays = reclaimBarDays
    }

    /// How many leads a claim may take, and which rule cut it short.
    ///
    /// - Parameters:
    ///   - requested: What the rep asked for.
    ///   - held: Leads the rep holds now.
    ///   - claimedToday: Leads the rep claimed from this pool today.
    ///   - capacity: The rep's own capacity.
    public func allowance(requested: Int, held: Int, claimedToday: Int, capacity: Int) -> ClaimAllowance {
        let limits: [(String, Int)] = [
            ("max_per_claim", self.maxPerClaim),
            ("max_per_day", self.maxPerDay - claimedToday),
            ("max_held", self.maxHeld - held),
            ("capacity", capacity - held),
        ]
        var allowance = ClaimAllowance(count: max(0, requested), limitedBy: nil)
        for (rule, limit) in limits where limit < allowance.count {
            allowance = ClaimAllowance(count: max(0, limit), limitedBy: rule)
        }
        return allowance
    }
}

/// What a claim may take.
public struct ClaimAllowance: Sendable, Hashable {
    public var count: Int
    /// The rule that made it smaller than requested (`max_per_claim`, `max_per_day`, `max_held`,
    /// `capacity`), if one did.
    public var limitedBy: String?

    public init(count: Int, limitedBy: String?) {
        self.count = count
        self.limitedBy = limitedBy
    }
}

/// How a team hands out leads.
public enum AssignmentPolicy: String, Sendable, Hashable, CaseIterable {
    /// Each active rep with room in turn, after the one who got the last lead.
    case roundRobin = "round_robin"
    /// The active rep with room who holds the fewest leads (ties by rep id).
    case leastLoaded = "least_loaded"
}

/// A rep as assignment sees them.
public struct RepLoad: Sendable, Hashable {
    public var id: String
    public var active: Bool
    public var held: Int
    public var capacity: Int

    public init(id: String, active: Bool, held: Int, capacity: Int) {
        self.id = id
        self.active = active
        self.held = held
        self.capacity = capacity
    }

    var hasRoom: Bool { self.active && self.held < self.capacity }
}

public enum Assignment {
    /// The reps to give `count` leads to, one per lead in order, and the last rep served (the next
    /// round-robin turn starts after it). Inactive reps and reps at capacity are skipped; fewer than
    /// `count` come back when the team runs out of room.
    public static func distribute(_ count: Int, among reps: [RepLoad], policy: AssignmentPolicy,
                                  after lastRep: String?) -> (reps: [String], last: String?) {
        var reps = reps.sorted { $0.id < $1.id }
        var out: [String] = []
        var last = lastRep
        for _ in 0..<max(0, count) {
            let pick: Int?
            switch policy {
            case .roundRobin:
                // The first rep with room after `last`, wrapping around.
                let start = last.map { l in reps.firstIndex { $0.id > l } ?? 0 } ?? 0
                pick = (0..<reps.count).lazy.map { (start + $0) % reps.count }.first { reps[$0].hasRoom }
            case .leastLoaded:
                pick = reps.indices.filter { reps[$0].hasRoom }.min { (reps[$0].held, reps[$0].id) < (reps[$1].held, reps[$1].id) }
            }
            guard let i = pick else { break }
            reps[i].held += 1
            out.append(reps[i].id)
            last = reps[i].id
        }
        return (out, last)
    }
}

/// A rule that moves customers back to a public pool (公海) when their owner lets them go cold.
public struct RecycleRule: Sendable, Hashable {
    public var id: Int64
    public var pool: String
    /// The customer level it applies to; `nil` for every level.
    public var level: String?
    /// No follow-up record for this many days (counted from the last record, or from when the owner got
    /// the customer).
    public var noFollowUpDays: Int?
    /// No deal for this many days (from the last deal, or from when the owner got the customer).
    public var noDealDays: Int?
    /// Customers who ever closed a deal are kept.
    public var excludeWithDeal: Bool
    /// Customers with an open opportunity are kept.
    public var excludeOpenOpportunity: Bool
    /// The owner is warned this many days before.
    public var warnDays: Int

    public init(id: Int64, pool: String, level: String? = nil, noFollowUpDays: Int? = nil, noDealDays: Int? = nil,
                excludeWithDeal: Bool = false, excludeOpenOpportunity: Bool = false, warnDays: Int = 3) {
        self.id = id
        self.pool = pool
        self.level = level
        self.noFollowUpDays = noFollowUpDays
        self.noDealDays = noDealDays
        self.excludeWithDeal = excludeWithDeal
        self.excludeOpenOpportunity = excludeOpenOpportunity
        self.warnDays = warnDays
    }
}

/// What the recycle rules look at for one owned customer.
public struct CustomerClock: Sendable, Hashable {
    public var level: String
    public var ownedSince: Date
    public var lastFollowUp: Date?
    public var lastDeal: Date?
    public var warnedAt: Date?
    public var hasOpenOpportunity: Bool

    public init(level: String, ownedSince: Date, lastFollowUp: Date? = nil, lastDeal: Date? = nil, warnedAt: Date? = nil,
                hasOpenOpportunity: Bool = false) {
        self.hasOpenOpportunity = hasOpenOpportunity
        self.level = level
        self.ownedSince = ownedSince
        self.lastFollowUp = lastFollowUp
        self.lastDeal = lastDeal
        self.warnedAt = warnedAt
    }
}

public enum RecycleVerdict: Sendable, Hashable {
    case keep
    /// Warn the owner: the customer goes to `pool` at `at` unless followed up.
    case warn(rule: Int64, pool: String, at: Date, reason: String)
    case recycle(rule: Int64, pool: String, reason: String)
}

public enum Recycling {
    static let day: TimeInterval = 86_400

    /// When `rule` would move the customer, and why; `nil` if it never would.
    public static func due(_ c: CustomerClock, under rule: RecycleRule) -> (at: Date, reason: String)? {
        if let level = rule.level, level != c.level { return nil }
        if rule.excludeWithDeal && c.lastDeal != nil { return nil }
        if rule.excludeOpenOpportunity && c.hasOpenOpportunity { return nil }
        var due: [(Date, String)] = []
        if let n = rule.noFollowUpDays {
            due.append((max(c.lastFollowUp ?? c.ownedSince, c.ownedSince) + Double(n) * Self.day, "no follow-up for \(n) days"))
        }
        if let m = rule.noDealDays {
            due.append((max(c.lastDeal ?? c.ownedSince, c.ownedSince) + Double(m) * Self.day, "no deal for \(m) days"))
        }
        return due.min { $0.0 < $1.0 }.map { (at: $0.0, reason: $0.1) }
    }

    /// The earliest rule decides: recycle once it is due, warn once within its warning window (again
    /// only if a follow-up has since moved the due date), else keep.
    public static func verdict(_ c: CustomerClock, rules: [RecycleRule], now: Date) -> RecycleVerdict {
        let earliest = rules.compactMap { r in Self.due(c, under: r).map { (rule: r, at: $0.at, reason: $0.reason) } }
            .min { ($0.at, $0.rule.id) < ($1.at, $1.rule.id) }
        guard let e = earliest else { return .keep }
        if now >= e.at { return .recycle(rule: e.rule.id, pool: e.rule.pool, reason: e.reason) }
        let warnFrom = e.at - Double(e.rule.warnDays) * Self.day
        if now >= warnFrom && (c.warnedAt.map { $0 < warnFrom } ?? true) {
            return .warn(rule: e.rule.id, pool: e.rule.pool, at: e.at, reason: e.reason)
        }
        return .keep
    }
}
