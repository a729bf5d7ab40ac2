import Foundation
import RapportSupport
import Logging
import RapportAMQP
import RapportPostgres
import RapportRuntime
import RapportStore

/// Moves everything from `rapport.dead` into the `dead_letters` table, as a ``QueueConsumer`` handler:
/// acked only after commit.
///
/// The queue is a buffer, not the archive: in PostgreSQL dead letters are durable, searchable and never
/// capped. A redelivered dead letter is stored once (its dedupe key).
public struct DeadLetterArchiver: DeliveryHandler {
    let logger: Logger
    /// Seals each body under a data key of its own (`nil`: stored as received).
    let keyring: Keyring?

    public init(logger: Logger, keyring: Keyring? = nil) {
        self.logger = logger
        self.keyring = keyring
    }

    public func handle(_ batch: [AMQPDelivery], database db: PGConnection) throws -> DeliveryOutcome {
        try db.transaction { try DeadLetterArchive.store(batch.map(DeadLetters.archiveRow), on: db, keyring: self.keyring) }
        self.logger.info("archived dead letters", metadata: ["count": "\(batch.count)"])
        return DeliveryOutcome()
    }
}
