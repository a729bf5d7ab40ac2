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
        try self.applyOnce(e, db: db, parse: IdentityCommand.parse, name: \.name) { command, actor in
            .object(["detail": .string(try IdentityCommands(db: db).execute(command, actor: actor))])
        }
    }
}
