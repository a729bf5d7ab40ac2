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
        switch IdentityCommand.decode(e) {
        case .failure(let r):
            return .refused(r, deadLetter: true)
        case .success(let (command, actor)):
            return try ProcessedCommands.once(db, messageID: e.messageID!, command: command.name, actor: actor, body: e.body) {
                .ok(.object(["detail": .string(try IdentityCommands(db: db).execute(command, actor: actor))]))
            }
        }
    }
}
