import ArgumentParser
import Foundation
import RapportPostgres
import RapportSupport
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct Ledger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The inbound ledger: every message accounted for.", subcommands: [Export.self, Verify.self])

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

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a stored message's signature again: who signed it, with which key, and that the row is unchanged.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The message id.") var messageID: String
        @Option(help: "The source, when the id is used by more than one.") var source: String?
        @Option(help: "A file with the message's body as received, to check it is what was signed.") var body: String?

        func run() throws {
            let bytes = try self.body.map { path -> [UInt8] in
                guard let d = FileManager.default.contents(atPath: path) else { throw CLIError("--body: cannot read \(path)") }
                return Array(d)
            }
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            guard let c = try SourceRegistry(db: db).verifyLedger(source: self.source, messageID: self.messageID, body: bytes) else {
                throw CLIError("message \(self.messageID) is not in the ledger")
            }
            print("\(c.valid ? "valid" : "NOT VALID"): \(c.source)/\(c.messageID): \(c.reason)")
            if let k = c.keyID { print("key \(k) (now \(c.keyStatus))" + (c.signedAt.map { ", signed at \(ISO8601.string($0))" } ?? "")) }
            if let m = c.bodyMatches { print(m ? "body: matches what was signed" : "body: does NOT match what was signed") }
            if !c.valid || c.bodyMatches == false { throw ExitCode(1) }
        }
    }
}
