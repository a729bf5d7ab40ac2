import ArgumentParser
import Foundation
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

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

struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The duplicate review queue: possible duplicates the matcher was not sure of.",
        subcommands: [List.self, Decide.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open duplicate candidates, newest first, with score and reasons.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "At most this many.") var limit = 50

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let rows = try IdentityCommands(db: db).openCandidates(limit: self.limit)
            for r in rows {
                print("\(r.id)\t\(r.score ?? "")\t\(r.lead) \(r.leadName ?? "-") ~ \(r.candidateLead) \(r.candidateName ?? "-")\t\(r.reasons ?? "")")
            }
            print("\(rows.count) open candidate(s); decide with: rapport review decide ID --merge | --dismiss")
        }
    }

    struct Decide: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Merge a candidate pair (the older lead wins) or dismiss it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The candidate id from `rapport review list`.") var id: Int64
        @Flag(help: "Merge the pair, or dismiss it.") var decision: Decision

        enum Decision: String, EnumerableFlag { case merge, dismiss }

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let actor = ProcessInfo.processInfo.environment["USER"] ?? "cli"
            print(try IdentityCommands(db: db).review(self.id, merge: self.decision == .merge, actor: actor))
        }
    }
}
