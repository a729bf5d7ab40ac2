import Foundation
import RapportSupport
import Logging
import RapportAMQP
import RapportPostgres

/// The one periodic-job loop: connects what the job needs, runs rounds until stopped, keeps the broker
/// connection's heartbeats going while it waits, and reconnects with backoff when a server fails.
public struct PeriodicJobRunner<Job: PeriodicJob>: WorkerLoop {
    public let name: String
    public let job: Job
    let connections: ServerConnections
    let maxBackoff: Duration
    let logger: Logger

    public init(name: String, job: Job, connections: ServerConnections, maxBackoff: Duration = .seconds(5), logger: Logger) {
        self.name = name
        self.job = job
        self.connections = connections
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    public func run(index: Int, stop: StopSignal) {
        let supervisor = Supervisor(name: self.name, logger: self.logger, connections: self.connections, maxBackoff: self.maxBackoff)
        supervisor.run(stop: stop) { backoff in
            let needs = self.job.needs
            let db = needs.database ? try self.connections.database() : nil
            defer { db?.close() }
            let publisher = needs.publisher ? try self.connections.broker(name: "rapport-\(self.name)-\(index)") : nil
            defer { publisher?.close() }
            try publisher?.enableConfirms()
            backoff.reset()
            let context = PeriodicJobContext(database: db, publisher: publisher)
            while !stop.isSet {
                let wait = try self.job.runOnce(context)
                let until = ContinuousClock.now + wait
                while !stop.isSet && ContinuousClock.now < until {
                    try publisher?.pump()
                    stop.sleep(for: min(.milliseconds(500), until - ContinuousClock.now))
                }
            }
        }
        self.logger.info("\(self.name) stopped")
    }
}
