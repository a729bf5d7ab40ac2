import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportCore
import RapportSupport
import Synchronization

/// Running totals of what the ingest consumers did, for logs, `/metrics` and tests.
public final class IngestCounters: Sendable {
    private let state = Mutex<[String: Int]>([:])

    public init() {}

    func record(plan: LeadPlan, deadLettered: [InboundRejection]) {
        self.state.withLock { s in
            for d in plan.decisions { s[d.outcome.rawValue, default: 0] += 1 }
            for r in deadLettered { s["dead_letter." + r.code.rawValue, default: 0] += 1 }
            s["batches", default: 0] += 1
        }
    }

    /// A copy of the counters.
    public var snapshot: [String: Int] { self.state.withLock { $0 } }
}
