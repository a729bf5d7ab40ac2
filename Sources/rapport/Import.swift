import ArgumentParser
import RapportDecoding
import Foundation
import RapportAMQP
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportAdmin
import RapportTesting

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Publish a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx file, one message per row.",
        discussion: """
            Message ids come from the file's content hash and the row's line, so importing the same file twice \
            creates nothing new. Rows that do not fit the mapping, and lines that cannot be parsed (a stray quote \
            costs its own line only), go to the dead letters with file and line.
            """,
        subcommands: [Run.self, Status.self], defaultSubcommand: Run.self)

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "file", abstract: "Import a file (the default).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The file.") var file: String
        @Option(help: "Source name: routing key inbound.import.<source> and the ledger's source.") var source: String
        @Option(help: "Field mapping (JSON; see connectors/README.md).") var mapping = "connectors/csv/mapping.json"

        func run() throws {
            let settings = try self.global.settings()
            guard self.source.range(of: #"^[A-Za-z0-9_-]+$"#, options: .regularExpression) != nil else {
                throw CLIError("--source: use letters, digits, '-' and '_' only (it becomes a routing-key word)")
            }
            let mapping = try ChannelMapping(contentsOfFile: self.mapping)
            let conn = try AMQPConnection(configuration: settings.amqpConfiguration(name: "rapport-import"))
            defer { conn.close() }
            let db = try? PGConnection(settings.postgresURL)
            defer { db?.close() }
            if let db { _ = try Schema.migrate(db) }
            let progress = Progress(label: "importing \(URL(fileURLWithPath: self.file).lastPathComponent)")
            let report = try ImportJob(path: self.file, source: self.source, mapping: mapping)
                .run(publisher: conn, db: db) { done, total, rows in
                    progress.update(Int(done / 1024), Int(max(total, 1) / 1024), suffix: "KiB, \(rows) rows")
                }
            print("batch \(report.batchID): \(report.rows) rows, \(report.published) published, \(report.dead.values.reduce(0, +)) refused")
            for (code, n) in report.dead.sorted(by: { $0.key < $1.key }) { print("  \(code): \(n)") }
            for e in report.firstErrors { print("  e.g. \(e)") }
            print("Follow it with: rapport import status \(report.batchID)")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What became of an import batch's rows.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Batch id, as printed by the import.") var batch: String
        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let rows = try ImportJob.status(batchID: self.batch, db: db)
            if rows.isEmpty { throw CLIError("no import batch \(self.batch)") }
            for (k, n) in rows { print("\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(n)") }
        }
    }
}
