import RapportDecoding
import RapportPostgres
import RapportStore

/// Applies the commands of one queue.
public protocol CommandHandler: Sendable {
    /// Applies one command, once per message id. Throws only for faults a retry can fix (the database).
    func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome
}
