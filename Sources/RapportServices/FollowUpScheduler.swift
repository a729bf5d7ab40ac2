import Foundation
import RapportSupport
import Logging
import RapportPostgres
import RapportRuntime
import RapportStore

/// Fires `followup.due` reminders, as a periodic job: each plan once, when it falls due.
///
/// A plan is reminded in the transaction that writes its event to the outbox and sets `reminded_at`;
/// due plans are taken `for update skip locked`, so several schedulers share the work and none reminds a
/// plan twice, and a restarted one finds what is still due in the table. Plans that fell due more than
/// `lateAfter` ago (the scheduler was down) are reminded at once and marked late.
public struct FollowUpScheduler: PeriodicJob {
    public struct Configuration: Sendable {
        /// A reminder this late is marked late. Defaults to `60` s.
        public var lateAfter: TimeInterval
        /// Plans reminded per transaction. Defaults to `1000`.
        public var batchSize: Int

        public init(lateAfter: TimeInterval = 60, batchSize: Int = 1000) {
            self.lateAfter = lateAfter
            self.batchSize = batchSize
        }
    }

    public let configuration: Configuration
    let clock: @Sendable () -> Date
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: true, publisher: false) }

    public init(configuration: Configuration = .init(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.clock = clock
    }

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        let db = try context.db
        if try self.fireDue(db) > 0 { return .zero }
        // Sleep until the next plan falls due, but look again at least every half second (new plans,
        // other schedulers).
        let next = try FollowUps(db: db).nextDue()
        let wait = min(0.5, max(0.005, (next ?? .distantFuture).timeIntervalSince(self.clock())))
        return .milliseconds(Int(wait * 1000))
    }

    /// Reminds one batch of due plans; returns how many.
    @discardableResult
    public func fireDue(_ db: PGConnection) throws -> Int {
        let (fired, late) = try FollowUps(db: db).remindDue(now: self.clock(), lateAfter: self.configuration.lateAfter,
                                                            limit: self.configuration.batchSize)
        if fired > 0 { Telemetry.reminders(fired: fired, late: late) }
        return fired
    }
}
