import Foundation
import RapportSupport
import Logging
import ServiceLifecycle

/// Runs blocking worker loops (rabbitmq-c and libpq calls) on threads of their own, as a `Service`.
///
/// The cooperative pool has one thread per core; blocking C calls there would stall every task, so each
/// loop gets a dedicated thread. Graceful shutdown or cancellation sets the ``StopSignal``; the loops
/// finish the batch in hand, acknowledge it and return.
public struct ThreadedService: Service {
    public typealias Loop = @Sendable (_ index: Int, _ stop: StopSignal) throws -> Void

    public let name: String
    public let threads: Int
    private let loop: Loop
    private let stop = StopSignal()

    public init(name: String, threads: Int = 1, loop: @escaping Loop) {
        self.name = name
        self.threads = threads
        self.loop = loop
    }

    /// A service running `worker`'s loop on `threads` threads, once `gate` (if any) has opened.
    public init(name: String, threads: Int = 1, after gate: StartGate? = nil, worker: some WorkerLoop) {
        self.init(name: name, threads: threads) { i, stop in
            guard gate?.wait(stop: stop) ?? true else { return }
            worker.run(index: i, stop: stop)
        }
    }

    public func run() async throws {
        let stop = self.stop
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<self.threads {
                        group.addTask { try await Self.onThread(name: "\(self.name)-\(i)") { try self.loop(i, stop) } }
                    }
                    try await group.waitForAll()
                }
            } onGracefulShutdown: {
                stop.set()
            }
        } onCancel: {
            stop.set()
        }
    }

    /// Asks the loops to stop (for callers that run the service without a ServiceGroup).
    public func requestStop() { self.stop.set() }

    static func onThread(name: String, _ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            let t = Thread {
                do {
                    try body()
                    cont.resume()
                } catch {
                    cont.resume(throwing: error)
                }
            }
            t.name = name
            t.stackSize = 4 << 20
            t.start()
        }
    }
}
