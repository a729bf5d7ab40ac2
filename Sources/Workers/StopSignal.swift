import Foundation
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

/// Exponential backoff with jitter, capped.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var attempt = 0

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    public mutating func next() -> Duration {
        defer { self.attempt += 1 }
        let factor = 1 << min(self.attempt, 16)
        let base = min(self.initial * factor, self.maximum)
        return base * Double.random(in: 0.5...1.0)
    }

    public mutating func reset() { self.attempt = 0 }
}
