import Foundation
import RapportSupport
import Synchronization

/// A flag that asks blocking worker loops to finish what they hold and return.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { self.flag.load(ordering: .acquiring) }

    public func set() { self.flag.store(true, ordering: .releasing) }

    /// Sleeps up to `duration`, waking early when the signal is set. Returns `false` if it was set.
    @discardableResult
    public func sleep(for duration: Duration) -> Bool {
        let deadline = ContinuousClock.now + duration
        while !self.isSet {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return true }
            let step = min(left, .milliseconds(25))
            let (s, a) = step.components
            usleep(UInt32(s * 1_000_000 + a / 1_000_000_000_000))
        }
        return false
    }
}
