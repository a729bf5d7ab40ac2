import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import Logging
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// Merge, unmerge, review and erase (`identity.*`).
public struct IdentityCommandHandler: CommandHandler {
    /// Where erases are logged beside the KEK file, to be re-applied after a restore.
    let eraseLog: String?
    /// This process's match profiles, from which an erased person's go at once.
    let profileCache: ProfileCache?
    public init(eraseLog: String? = nil, profileCache: ProfileCache? = nil) {
        self.eraseLog = eraseLog
        self.profileCache = profileCache
    }

    public func handle(_ e: InboundEnvelope, db: PGConnection) throws -> CommandOutcome {
        var erased: (kind: Erasure.Kind, subject: UUID, id: UUID, leads: [UUID])?
        let outcome = try self.applyOnce(e, db: db, parse: IdentityCommand.parse, name: \.name) { command, actor in
            guard case .erase(let subject, let customer) = command else {
                return .object(["detail": .string(try IdentityCommands(db: db).execute(command, actor: actor))])
            }
            let kind: Erasure.Kind = customer ? .customer : .lead
            let r = try Erasure(db: db).erase(kind, subject, actor: actor, vacuum: false)
            erased = (kind, subject, r.eraseID, r.leads)
            return .object(["erase_id": .string(r.eraseID.uuidString.lowercased()), "leads": .number(Double(r.leads.count)),
                            "keys_destroyed": .number(Double(r.keysDestroyed))])
        }
        // After commit: the erase log, then VACUUM (which cannot run inside the transaction).
        if let erased {
            self.profileCache?.remove(erased.leads)
            if let path = self.eraseLog { try EraseLog.append(eraseID: erased.id, kind: erased.kind, subject: erased.subject, path: path) }
            try Erasure(db: db).vacuum()
        }
        return outcome
    }
}
