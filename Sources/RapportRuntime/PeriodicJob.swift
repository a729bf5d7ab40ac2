import Foundation
import RapportSupport
import RapportAMQP
import RapportPostgres

/// Work done in rounds by a ``PeriodicJobRunner``: the outbox relay, the follow-up scheduler, the
/// recycler, the monitor.
public protocol PeriodicJob: Sendable {
    /// What the job needs connected.
    var needs: PeriodicJobNeeds { get }
    /// One round of work.
    ///
    /// - Returns: how long to wait before the next round (`.zero`: at once).
    /// - Throws: a server fault; the runner reconnects with backoff and starts the next round.
    func runOnce(_ context: PeriodicJobContext) throws -> Duration
}

/// The connections a ``PeriodicJob`` asks for.
public struct PeriodicJobNeeds: Sendable, Hashable {
    public var database: Bool
    /// A broker connection with publisher confirms on.
    public var publisher: Bool

    public init(database: Bool, publisher: Bool) {
        self.database = database
        self.publisher = publisher
    }
}

/// What a round runs with: the connections the job asked for.
public struct PeriodicJobContext {
    /// The database, when the job needs it.
    public let database: PGConnection?
    /// A broker connection with confirms on, when the job needs it.
    public let publisher: AMQPConnection?

    /// The database; a job that asked for one always has it.
    public var db: PGConnection {
        get throws {
            guard let d = self.database else { throw PGError(.connection, message: "this job did not ask for a database") }
            return d
        }
    }
}
