import Foundation
import RapportSupport
import Synchronization

/// Opens once, when start-up work (the schema migration) is done; worker loops wait at it, so a process
/// started while the database is down serves `/healthz` and waits instead of exiting.
public final class StartGate: Sendable {
    private let flag = Atomic<Bool>(false)

    public init(open: Bool = false) { if open { self.flag.store(true, ordering: .releasing) } }

    public var isOpen: Bool { self.flag.load(ordering: .acquiring) }

    public func open() { self.flag.store(true, ordering: .releasing) }

    /// Waits until the gate opens; `false` if `stop` was set first.
    public func wait(stop: StopSignal) -> Bool {
        while !self.isOpen {
            if !stop.sleep(for: .milliseconds(100)) { return false }
        }
        return true
    }
}
