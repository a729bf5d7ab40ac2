import Foundation
import RapportSupport
import Logging
import RapportRuntime
import RapportStore
import Synchronization

/// Keeps the pools moving, as a periodic job: every `assignEvery` it hands waiting leads of
/// auto-assigning pools to their teams, and every `recycleEvery` it applies the recycle rules.
public final class Recycler: PeriodicJob {
    public struct Configuration: Sendable {
        /// Defaults to `2` s.
        public var assignEvery: Duration
        /// Defaults to `60` s.
        public var recycleEvery: Duration

        public init(assignEvery: Duration = .seconds(2), recycleEvery: Duration = .seconds(60)) {
            self.assignEvery = assignEvery
            self.recycleEvery = recycleEvery
        }
    }

    public let configuration: Configuration
    let logger: Logger
    let clock: @Sendable () -> Date
    private let nextRecycle = Mutex<ContinuousClock.Instant?>(nil)
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: true, publisher: false) }

    public init(configuration: Configuration = .init(), logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        let db = try context.db
        let n = try LeadPool(db: db).autoAssign()
        if n > 0 { self.logger.info("auto-assigned leads", metadata: ["count": "\(n)"]) }
        if self.nextRecycle.withLock({ $0.map { ContinuousClock.now >= $0 } ?? true }) {
            let (r, w) = try CustomerPool(db: db).recycle(now: self.clock())
            if r + w > 0 { self.logger.info("recycled customers", metadata: ["recycled": "\(r)", "warned": "\(w)"]) }
            let next = ContinuousClock.now + self.configuration.recycleEvery
            self.nextRecycle.withLock { $0 = next }
        }
        return self.configuration.assignEvery
    }
}
