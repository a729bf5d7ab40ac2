import Foundation
import RapportSupport
import Synchronization

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
