import Foundation
import RapportCore
import RapportSupport
import Testing

struct SalesRulesTests {
    @Test func claimAllowanceNamesTheRuleThatCutIt() {
        let rules = PoolRules(maxPerClaim: 10, maxPerDay: 30, maxHeld: 50, reclaimBarDays: 7)
        #expect(rules.allowance(requested: 5, held: 0, claimedToday: 0, capacity: 100) == ClaimAllowance(count: 5, limitedBy: nil))
        #expect(rules.allowance(requested: 25, held: 0, claimedToday: 0, capacity: 100) == ClaimAllowance(count: 10, limitedBy: "max_per_claim"))
        #expect(rules.allowance(requested: 10, held: 0, claimedToday: 26, capacity: 100) == ClaimAllowance(count: 4, limitedBy: "max_per_day"))
        #expect(rules.allowance(requested: 10, held: 47, claimedToday: 0, capacity: 100) == ClaimAllowance(count: 3, limitedBy: "max_held"))
        #expect(rules.allowance(requested: 10, held: 7, claimedToday: 0, capacity: 8) == ClaimAllowance(count: 1, limitedBy: "capacity"))
        #expect(rules.allowance(requested: 10, held: 60, claimedToday: 40, capacity: 8).count == 0)
    }

    static let team = [RepLoad(id: "a", active: true, held: 0, capacity: 10), RepLoad(id: "b", active: false, held: 0, capacity: 10),
                       RepLoad(id: "c", active: true, held: 0, capacity: 2), RepLoad(id: "d", active: true, held: 5, capacity: 10)]

    @Test func roundRobinSkipsInactiveAndFullRepsAndContinuesAfterTheLast() {
        let first = Assignment.distribute(5, among: Self.team, policy: .roundRobin, after: nil)
        #expect(first.reps == ["a", "c", "d", "a", "c"])
        #expect(first.last == "c")
        // The next run starts after "c"; c is now full (2 of 2), so it is skipped.
        var loads = Self.team
        loads[2].held = 2
        #expect(Assignment.distribute(3, among: loads, policy: .roundRobin, after: "c").reps == ["d", "a", "d"])
        // A rep who left (inactive) is never given anything, even when nobody else has room.
        let onlyInactive = [RepLoad(id: "x", active: false, held: 0, capacity: 5)]
        #expect(Assignment.distribute(3, among: onlyInactive, policy: .roundRobin, after: nil).reps.isEmpty)
    }

    @Test func leastLoadedFillsTheEmptiestFirst() {
        let r = Assignment.distribute(6, among: Self.team, policy: .leastLoaded, after: nil)
        // a and c start at 0; c fills at 2; a climbs to 5 and ties with d (a first by id).
        #expect(r.reps == ["a", "c", "a", "c", "a", "a"])
        #expect(Assignment.distribute(100, among: Self.team, policy: .leastLoaded, after: nil).reps.count == 10 + 2 + 5)
    }

}

struct RecyclingTests {
    let day: TimeInterval = 86_400
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func noFollowUpRuleWarnsOnceThenRecyclesAndAFollowUpResetsTheClock() {
        let rule = RecycleRule(id: 1, pool: "public", noFollowUpDays: 30, warnDays: 3)
        var c = CustomerClock(level: "C", ownedSince: t0)
        #expect(Recycling.verdict(c, rules: [rule], now: t0 + 26 * day) == .keep)
        guard case .warn(1, "public", let at, _) = Recycling.verdict(c, rules: [rule], now: t0 + 27 * day) else { Issue.record("no warning"); return }
        #expect(at == t0 + 30 * day)
        c.warnedAt = t0 + 27 * day
        #expect(Recycling.verdict(c, rules: [rule], now: t0 + 28 * day) == .keep)  // warned already
        #expect(Recycling.verdict(c, rules: [rule], now: t0 + 30 * day) == .recycle(rule: 1, pool: "public", reason: "no follow-up for 30 days"))
        // A follow-up on day 29 moves the clock: no recycling, and a new warning before the new date.
        c.lastFollowUp = t0 + 29 * day
        #expect(Recycling.verdict(c, rules: [rule], now: t0 + 30 * day) == .keep)
        guard case .warn = Recycling.verdict(c, rules: [rule], now: t0 + 56 * day) else { Issue.record("no second warning"); return }
    }

    @Test func levelsDealsAndTheEarliestRule() {
        let a = RecycleRule(id: 1, pool: "vip", level: "A", noFollowUpDays: 60)
        let any = RecycleRule(id: 2, pool: "public", noDealDays: 90, excludeWithDeal: true)
        let followUps = RecycleRule(id: 3, pool: "public", level: "C", noFollowUpDays: 15)
        let cA = CustomerClock(level: "A", ownedSince: t0)
        #expect(Recycling.verdict(cA, rules: [a, any, followUps], now: t0 + 61 * day) == .recycle(rule: 1, pool: "vip", reason: "no follow-up for 60 days"))
        let cC = CustomerClock(level: "C", ownedSince: t0, lastFollowUp: t0 + 80 * day)
        #expect(Recycling.verdict(cC, rules: [a, any, followUps], now: t0 + 91 * day) == .recycle(rule: 2, pool: "public", reason: "no deal for 90 days"))
        // Excluded once a deal was ever made; a level-B customer has no rule left but the deal one.
        let withDeal = CustomerClock(level: "B", ownedSince: t0, lastDeal: t0 + day)
        #expect(Recycling.verdict(withDeal, rules: [a, any, followUps], now: t0 + 400 * day) == .keep)
    }
}
