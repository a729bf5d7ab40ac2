import Foundation
import Synchronization
import RapportCore

/// What matching needs of a stored lead, by lead id and touch count (a merge bumps the count, so a changed
/// lead is never served stale): its profile and the profiles of its latest submissions. Shared by the
/// consumer threads of a process: a lead one thread wrote is a candidate for the others.
///
/// Bounded in bytes (``MatchProfile/approximateBytes``), in two generations: when the newer holds half
/// the budget, the older is dropped, so leads in use stay cached and memory stays under `capacityBytes`.
public final class ProfileCache: Sendable {
    /// A lead's profile and its latest submissions' profiles (oldest first; empty for a lead never merged).
    public struct Entry: Sendable {
        public var touchCount: Int
        public var profile: MatchProfile
        public var recent: [MatchProfile]
        var bytes: Int
    }

    /// Lookups answered and not, and the bytes and entries held now.
    public struct Stats: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        public var bytes = 0
        public var entries = 0
        public var hitRate: Double { self.hits + self.misses == 0 ? 0 : Double(self.hits) / Double(self.hits + self.misses) }
    }

    private struct Generations {
        var current: [UUID: Entry] = [:]
        var currentBytes = 0
        var previous: [UUID: Entry] = [:]
        var previousBytes = 0
        var hits = 0
        var misses = 0
    }
    private let state = Mutex(Generations())
    public let capacityBytes: Int

    /// - Parameter capacityBytes: the budget; at least 64 KiB. Defaults to 32 MiB.
    public init(capacityBytes: Int = 32 << 20) { self.capacityBytes = max(64 << 10, capacityBytes) }

    /// The entry for this lead at this touch count, counting the lookup as a hit or a miss.
    public func entry(id: UUID, touchCount: Int) -> Entry? {
        self.state.withLock { g in
            if let e = g.current[id], e.touchCount == touchCount {
                g.hits += 1
                return e
            }
            if let e = g.previous[id], e.touchCount == touchCount {
                g.hits += 1
                Self.insert(e, id: id, into: &g, capacity: self.capacityBytes)
                return e
            }
            g.misses += 1
            return nil
        }
    }

    /// Remembers a lead's profile and recent submissions (only the latest ``LeadStore/touchesPerCandidate``).
    public func store(id: UUID, touchCount: Int, profile: MatchProfile, recent: [MatchProfile]) {
        let recent = Array(recent.suffix(LeadStore.touchesPerCandidate))
        let bytes = 64 + profile.approximateBytes + recent.reduce(0) { $0 + $1.approximateBytes }
        let e = Entry(touchCount: touchCount, profile: profile, recent: recent, bytes: bytes)
        self.state.withLock { Self.insert(e, id: id, into: &$0, capacity: self.capacityBytes) }
    }

    /// Drops these leads' entries (an erase: their profiles are personal data).
    public func remove(_ ids: some Sequence<UUID>) {
        self.state.withLock { g in
            for id in ids {
                if let e = g.current.removeValue(forKey: id) { g.currentBytes -= e.bytes }
                if let e = g.previous.removeValue(forKey: id) { g.previousBytes -= e.bytes }
            }
        }
    }

    public var stats: Stats {
        self.state.withLock { g in
            Stats(hits: g.hits, misses: g.misses, bytes: g.currentBytes + g.previousBytes,
                  entries: g.current.count + g.previous.count)
        }
    }

    private static func insert(_ e: Entry, id: UUID, into g: inout Generations, capacity: Int) {
        if let old = g.current[id] { g.currentBytes -= old.bytes }
        if g.currentBytes + e.bytes > capacity / 2 {
            g.previous = g.current
            g.previousBytes = g.currentBytes
            g.current = [:]
            g.currentBytes = 0
        }
        g.current[id] = e
        g.currentBytes += e.bytes
    }
}
