import Foundation
import Synchronization
import RapportCore
import RapportSupport
import RapportPostgres

/// Match profiles by lead id and touch count (a merge bumps the count, so a changed lead is never served
/// stale), shared by the consumer threads of a process: a lead one thread created is a candidate for the
/// others. Bounded, in two generations: when the newer fills up, the older is dropped, so leads in use
/// stay cached and memory stays under about `capacity` profiles (~2.5 KB each).
public final class ProfileCache: Sendable {
    private struct Generations {
        var current: [UUID: (touchCount: Int, profile: MatchProfile)] = [:]
        var previous: [UUID: (touchCount: Int, profile: MatchProfile)] = [:]
    }
    private let state = Mutex(Generations())
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = max(2, capacity) }

    func profile(of lead: LeadState) -> MatchProfile {
        let hit: MatchProfile? = self.state.withLock { g in
            if let e = g.current[lead.id], e.touchCount == lead.touchCount { return e.profile }
            if let e = g.previous[lead.id], e.touchCount == lead.touchCount {
                Self.insert(e.profile, id: lead.id, touchCount: e.touchCount, into: &g, capacity: self.capacity)
                return e.profile
            }
            return nil
        }
        if let hit { return hit }
        // Profiled outside the lock: it is the expensive part, and two threads doing it twice is harmless.
        let p = MatchProfile(lead.personRecord)
        self.store(p, id: lead.id, touchCount: lead.touchCount)
        return p
    }

    func store(_ p: MatchProfile, id: UUID, touchCount: Int) {
        self.state.withLock { Self.insert(p, id: id, touchCount: touchCount, into: &$0, capacity: self.capacity) }
    }

    private static func insert(_ p: MatchProfile, id: UUID, touchCount: Int, into g: inout Generations, capacity: Int) {
        if g.current.count >= capacity / 2 && g.current[id] == nil {
            g.previous = g.current
            g.current = [:]
            g.current.reserveCapacity(capacity / 2)
        }
        g.current[id] = (touchCount, p)
    }
}
