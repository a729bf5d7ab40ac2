import ArgumentParser
import Foundation
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations, or roll back with --down; never without a fresh backup.",
        discussion: "With changes to make, it first takes a backup with pg_dump into the backup directory, or uses the one --backup-file names if it is fresh enough.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Roll back the newest N applied migrations.") var down: Int?
    @Flag(help: "Show which migrations are applied.") var status = false
    @Option(help: "Use this backup (taken by `rapport backup`) instead of taking one.") var backupFile: String?
    @Option(help: "How old --backup-file may be, in minutes.") var maxBackupAge = 60

    func run() throws {
        let settings = try self.global.settings()
        if self.status {
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            for (m, at) in try Migrator(migrations: try Schema.migrations()).status(db) {
                print(String(format: "%04d %@ %@", m.version, m.name, at.map { "applied \($0)" } ?? "pending"))
            }
            return
        }
        let plan: Backup.Plan = self.backupFile.map { .existing(URL(fileURLWithPath: $0), maxAge: TimeInterval(self.maxBackupAge * 60)) }
            ?? .takeInto(URL(fileURLWithPath: settings.backupDirectory))
        let (backup, changed) = try Backup.migrateSafely(settings.postgresURL, plan: plan, down: self.down)
        if changed.isEmpty {
            print("schema up to date")
        } else {
            print("backup: \(backup?.path ?? "-")")
            print("\(self.down == nil ? "applied" : "rolled back"): \(changed.map { "\($0.version) \($0.name)" })")
        }
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "pg_dump the database, with every table's row count beside it.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Directory (default: the backup directory setting, `backups`).") var dir: String?

    func run() throws {
        let settings = try self.global.settings()
        FileHandle.standardError.write("dumping…\n".data(using: .utf8)!)
        let file = try Backup.dump(settings.postgresURL, into: URL(fileURLWithPath: self.dir ?? settings.backupDirectory))
        print(file.path)
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "pg_restore a backup into a database (new by default) and compare every table's row count with the backup's.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The .dump file from `rapport backup`.") var file: String
    @Option(help: "Target database URL (an empty database).") var into: String
    @Flag(help: "Create the target database first (the URL's user must be allowed to).") var createDatabase = false

    func run() throws {
        if self.createDatabase {
            try Backup.createDatabase(named: self.into)
        }
        FileHandle.standardError.write("restoring…\n".data(using: .utf8)!)
        let differ = try Backup.restore(URL(fileURLWithPath: self.file), into: self.into)
        // Erases made since the backup was taken are made again before anyone reads the restored copy.
        if let log = try self.global.settings().eraseLogFile, FileManager.default.fileExists(atPath: log) {
            let db = try PGConnection(self.into)
            defer { db.close() }
            let n = try EraseLog.reapply(path: log, db: db)
            print("erase log \(log): \(n) erases re-applied")
        }
        if differ.isEmpty {
            print("restored; every table's row count matches the backup")
        } else {
            for (t, d) in differ.sorted(by: { $0.key < $1.key }) { print("MISMATCH \(t): backup \(d.expected), restored \(d.restored)") }
            throw ExitCode(1)
        }
    }
}
