import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportServices
import RapportStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The tamper-evident audit chain: check it, or list a record's history.",
        subcommands: [Verify.self, Show.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash the whole chain; names the first edited, inserted or deleted row. Exit 1 when broken.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let progress = Progress(label: "verifying")
            let total: Int = try db.query("select count(*)::int8 as n from audit_log").first?.decode("n") ?? 0
            let r = try AuditLog(db: db).verify { progress.update(Int($0), total) }
            if let b = r.break {
                print("BROKEN at \(b): \(r.checked) rows before it hold")
                throw ExitCode(1)
            }
            print("intact: \(r.checked) rows" + (r.lastSeq.map { ", last sequence \($0), hash \(r.lastHash ?? "")" } ?? ""))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every audit entry naming a record (an id, a message:ID, a source or key id).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The record.") var target: String

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            for e in try AuditLog(db: db).history(target: self.target) {
                print([String(e.seq), e.at, e.actor, e.action, e.targets.joined(separator: ","), e.detail].joined(separator: "\t"))
            }
        }
    }
}
