/// A worker that runs until its stop signal is set, reconnecting on faults; one loop per thread.
public protocol WorkerLoop: Sendable {
    func run(index: Int, stop: StopSignal)
}
