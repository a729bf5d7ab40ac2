import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Each command message applied once: its message id is recorded in the transaction of its effect,
/// with the reply, so a redelivered command (or the same one sent twice) changes nothing and is
/// answered as the first time.
public enum ProcessedCommands {
    /// Runs `apply` (in a savepoint: a refusal leaves only the history row) unless `messageID` was
    /// processed before, in which case the stored reply comes back.
    public static func once(_ db: PGConnection, messageID: String, command: String, actor: String, body: [UInt8],
                            apply: () throws -> CommandOutcome) throws -> CommandOutcome {
        try db.transaction {
            let fresh = try db.query(
                """
                insert into processed_commands (message_id, command, actor, body) values ($1, $2, $3, $4::jsonb)
                on conflict (message_id) do nothing returning 1
                """, [messageID, command, actor, String(decoding: body, as: UTF8.self)])
            if fresh.isEmpty {
                let stored = try db.query("select result::text as r from processed_commands where message_id = $1", [messageID])
                return CommandOutcome(reply: stored.first?["r"].flatMap { try? JSONValue.parse(Array($0.utf8)) } ?? .null)
            }
            let outcome: CommandOutcome
            do {
                outcome = try db.transaction { try apply() }
            } catch let e as any CommandRefusal {
                outcome = CommandOutcome(result: e.detail ?? .null, error: e.rejection, deadLetter: e.deadLetter)
            }
            try db.query("update processed_commands set outcome = $2, detail = $3, result = $4::jsonb where message_id = $1",
                         [messageID, outcome.error == nil ? "done" : "rejected", outcome.error?.reason, outcome.reply.jsonString])
            return outcome
        }
    }
}

/// A command the rules refuse: answered as a typed error, and dead-lettered when `deadLetter`.
public protocol CommandRefusal: Error {
    var rejection: InboundRejection { get }
    var deadLetter: Bool { get }
    /// What the caller needs to act on the refusal (the current record of a `conflict`).
    var detail: JSONValue? { get }
}

extension CommandRefusal {
    public var detail: JSONValue? { nil }
}

extension LeadMerge.MergeError: CommandRefusal {
    public var rejection: InboundRejection { InboundRejection(code: IdentityCommand.rejected, reason: self.description) }
    /// Someone asked for a merge that cannot happen; the dead letter keeps the request for an admin.
    public var deadLetter: Bool { true }
}

extension SalesError: CommandRefusal {
    public var rejection: InboundRejection { InboundRejection(code: RejectionCode(rawValue: self.code.rawValue), reason: self.message) }
    /// A limit reached or a lead not owned is an answer, not a failed message.
    public var deadLetter: Bool { false }
}
