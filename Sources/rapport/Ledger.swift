import ArgumentParser
import Foundation
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct Ledger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The inbound ledger: every message accounted for.", subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One row per inbound message: source, message id, outcome (created, merged, dead_letter), lead, score, reasons, upstream key.",
            discussion: "upstream_key is the upstream's own record key (a mapping's idempotency_key cell, an ad platform's lead id), so it can join the export back to its records; empty when unknown.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only messages processed at or after this time (ISO 8601).") var since: String?
        @Option(help: "csv or json (one object per line).") var format = "csv"

        func run() throws {
            guard let f = LedgerExport.Format(rawValue: self.format) else { throw CLIError("--format: csv or json") }
            var date: Date?
            if let since {
                guard let d = try? Date(since, strategy: .iso8601) else { throw CLIError("--since: '\(since)' is not an ISO 8601 time") }
                date = d
            }
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let n = try LedgerExport.run(db: db, since: date, format: f) { FileHandle.standardOutput.write(Data($0.utf8)) }
            FileHandle.standardError.write(Data("\(n) rows\n".utf8))
        }
    }
}
