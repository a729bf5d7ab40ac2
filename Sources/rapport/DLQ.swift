import ArgumentParser
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct DLQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect, replay and purge archived dead letters.",
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    struct Filter: ParsableArguments {
        @Option(help: "Only this error code (e.g. invalid_json).") var reason: String?
        @Option(help: "Only this source (app_id).") var source: String?
        @Option(help: "Only archived at or after this time (ISO 8601, e.g. 2026-11-25T00:00:00Z).") var since: String?

        func selection(ids: [Int64] = [], all: Bool = false) throws -> DeadLetterAdmin.Selection {
            var date: Date?
            if let since {
                guard let d = try? Date(since, strategy: .iso8601) else { throw CLIError("--since: '\(since)' is not an ISO 8601 time") }
                date = d
            }
            return .init(ids: ids, reason: self.reason, source: self.source, since: date, all: all)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: Filter
        @Option(help: "Only this status: dead, replayed, purged.") var status: String?
        @Option(help: "At most this many rows.") var limit = 50
        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            var sel = try self.filter.selection()
            sel.status = self.status
            sel.limit = self.limit
            let rows = try DeadLetterAdmin(db: db).list(sel)
            print("id\tarchived_at\tstatus\tcode\tsource\tmessage_id\terror")
            for r in rows {
                print("\(r.id)\t\(r.archivedAt.formatted(.iso8601))\t\(r.status)\t\(r.errorCode)\t\(r.source ?? "-")\t\(r.messageID ?? "-")\t\(r.error ?? "")")
            }
            print("\(rows.count) shown")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter: headers, body, history.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        func run() throws {
            let settings = try self.global.settings()
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            guard let d = try DeadLetterAdmin(db: db, keyring: try settings.keyring()).show(self.id) else { throw CLIError("no dead letter with id \(self.id)") }
            let s = d.summary
            print("id:           \(s.id)")
            print("status:       \(s.status)")
            print("code:         \(s.errorCode)")
            print("error:        \(s.error ?? "-")")
            print("source:       \(s.source ?? "-")")
            print("message_id:   \(s.messageID ?? "-")")
            print("original:     \(d.exchange ?? "-") \(s.routingKey ?? "-")")
            print("failed_at:    \(d.failedAt.map { $0.formatted(.iso8601) } ?? "-")")
            print("attempts:     \(s.attempts.map(String.init) ?? "-")")
            if let r = s.replayedFrom { print("replayed from: \(r)") }
            print("properties:   \(d.properties.jsonString)")
            print("headers:      \(d.headers.jsonString)")
            if let body = d.body {
                let text = String(decoding: body, as: UTF8.self)
                print("body (\(body.count) bytes):")
                print(text.count > 4000 ? String(text.prefix(4000)) + "…" : text)
            } else {
                print("body:         sealed, and no key opens it (no KEK file, or the data key was erased)")
            }
            print("history:")
            if d.history.isEmpty { print("  (none)") }
            for h in d.history { print("  \(h.at.formatted(.iso8601)) \(h.action) by \(h.actor)\(h.detail.map { ": " + $0 } ?? "")") }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Republish dead letters to their original exchange and routing key (with confirms).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: Filter
        @Argument(help: "Dead-letter ids.") var ids: [Int64] = []
        @Flag(help: "Replay every dead letter still in status dead.") var all = false
        @Flag(help: "Only say what would be replayed.") var dryRun = false
        func run() throws {
            let settings = try self.global.settings()
            let sel = try self.filter.selection(ids: self.ids, all: self.all)
            guard !self.ids.isEmpty || self.all || self.filter.reason != nil || self.filter.source != nil || self.filter.since != nil else {
                throw CLIError("name ids, or --reason/--source/--since, or --all")
            }
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            let conn = try AMQPConnection(configuration: settings.amqpConfiguration(name: "rapport-dlq-replay"))
            defer { conn.close() }
            let progress = Progress(label: "replaying")
            let report = try DeadLetterAdmin(db: db, keyring: try settings.keyring()).replay(
                sel, publisher: conn, actor: ProcessInfo.processInfo.environment["USER"] ?? "cli", dryRun: self.dryRun,
                progress: { progress.update($0, $1) })
            if self.dryRun {
                print("dry run: \(report.selected) dead letters would be replayed")
                return
            }
            print("replayed \(report.replayed) of \(report.selected)")
            for f in report.failed { print("  failed \(f.id): \(f.reason)") }
            if !report.failed.isEmpty { throw ExitCode(1) }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark dead letters purged (kept, audited, never replayed).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: Filter
        @Argument(help: "Dead-letter ids.") var ids: [Int64] = []
        @Flag(help: "Purge every dead letter still in status dead.") var all = false
        @Option(help: "Why, for the audit log.") var why: String?
        func run() throws {
            guard !self.ids.isEmpty || self.all || self.filter.reason != nil || self.filter.source != nil || self.filter.since != nil else {
                throw CLIError("name ids, or --reason/--source/--since, or --all")
            }
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let n = try DeadLetterAdmin(db: db).purge(try self.filter.selection(ids: self.ids, all: self.all),
                                                      actor: ProcessInfo.processInfo.environment["USER"] ?? "cli", reason: self.why)
            print("purged \(n)")
        }
    }
}
