import ArgumentParser
import Foundation
import RapportPostgres
import Workers

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge one lead into another (the loser's messages and keys move; both rows are kept for unmerge).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead that stays.") var winner: String
    @Argument(help: "The lead merged into it.") var loser: String
    @Option(help: "Why, for the history.") var reason: String?

    func run() throws {
        guard let w = UUID(uuidString: self.winner), let l = UUID(uuidString: self.loser) else { throw CLIError("lead ids are UUIDs") }
        let db = try PGConnection(try self.global.settings().postgresURL)
        defer { db.close() }
        let id = try LeadMerge(db: db).merge(winner: w, loser: l, actor: ProcessInfo.processInfo.environment["USER"] ?? "cli", reason: self.reason)
        print("merge \(id): \(self.loser) -> \(self.winner) (undo with: rapport unmerge \(id))")
    }
}

struct Unmerge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Undo a merge: both leads as they were.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The merge id printed by `rapport merge`.") var mergeID: Int64

    func run() throws {
        let db = try PGConnection(try self.global.settings().postgresURL)
        defer { db.close() }
        try LeadMerge(db: db).unmerge(self.mergeID, actor: ProcessInfo.processInfo.environment["USER"] ?? "cli")
        print("merge \(self.mergeID) undone")
    }
}
