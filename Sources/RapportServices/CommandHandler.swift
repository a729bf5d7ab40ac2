import RapportCore
import RapportDecoding
import RapportPostgres
import RapportStore
import RapportSupport

/// Applies the commands of one queue.
public protocol CommandHandler: Sendable {
    /// Applies one command, once per message id. Throws only for faults a retry can fix (the database).
    func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome
}

extension CommandHandler {
    /// Decodes a command with `parse`, refuses (and dead-letters) one that does not decode, and applies
    /// the rest through ``ProcessedCommands/once(_:messageID:command:actor:body:apply:)``.
    func applyOnce<Command>(_ e: InboundEnvelope, db: PGConnection,
                            parse: (InboundEnvelope) throws(InboundRejection) -> (Command, CommandEnvelope),
                            name: (Command) -> String,
                            apply: (Command, _ actor: String) throws -> JSONValue) throws -> CommandOutcome {
        let command: Command, envelope: CommandEnvelope
        do {
            (command, envelope) = try parse(e)
        } catch {
            return .refused(error, deadLetter: true)
        }
        return try ProcessedCommands.once(db, messageID: envelope.messageID, command: name(command), actor: envelope.actor, body: e.body) {
            .ok(try apply(command, envelope.actor))
        }
    }
}
