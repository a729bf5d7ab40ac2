import ArgumentParser
import Foundation
import RapportPostgres
import Workers

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations, or roll back with --down.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Roll back the newest N applied migrations.") var down: Int?
    @Flag(help: "Show which migrations are applied.") var status = false

    func run() throws {
        let settings = try self.global.settings()
        let db = try PGConnection(settings.postgresURL)
        defer { db.close() }
        let migrator = Migrator(migrations: try Schema.migrations())
        if self.status {
            for (m, at) in try migrator.status(db) {
                print(String(format: "%04d %@ %@", m.version, m.name, at.map { "applied \($0)" } ?? "pending"))
            }
        } else if let n = self.down {
            let done = try migrator.rollback(db, steps: n)
            print("rolled back: \(done.map { "\($0.version) \($0.name)" })")
        } else {
            let done = try migrator.migrate(db)
            print(done.isEmpty ? "schema up to date" : "applied: \(done.map { "\($0.version) \($0.name)" })")
        }
    }
}
