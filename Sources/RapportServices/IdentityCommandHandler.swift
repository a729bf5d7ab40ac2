import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import Logging
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// Merge, unmerge and review (`identity.*`).
public struct IdentityCommandHandler: CommandHandler {
    public init() {}

    public func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome {
        let command: IdentityCommand, envelope: CommandEnvelope
        do {
            (command, envelope) = try IdentityCommand.parse(e)
        } catch {
            return .refused(error, deadLetter: true)
        }
        return try ProcessedCommands.once(db, messageID: envelope.messageID, command: command.name, actor: envelope.actor, body: e.body) {
            .ok(.object(["detail": .string(try IdentityCommands(db: db).execute(command, actor: envelope.actor))]))
        }
    }
}
