import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import RapportSupport
import RapportPostgres
import Synchronization

/// Backups with pg_dump and restores with pg_restore, each with the row count of every table, so a
/// restore can be checked; and the rule that no migration runs without a fresh backup.
public enum Backup {
    /// A backup or restore that could not be done.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public typealias Code = ErrorCode<Failure>

        public var code: Code
        public var description: String
        public init(_ code: Code, _ description: String) {
            self.code = code
            self.description = description
        }
    }

    /// Row counts of every table in the public schema (exact: `count(*)`, not statistics).
    public static func rowCounts(_ db: PGConnection) throws -> [String: Int] {
        let tables: [String] = try db.query(
            "select tablename from pg_tables where schemaname = 'public' order by tablename").map { try $0.decode("tablename") }
        var counts: [String: Int] = [:]
        for t in tables {
            counts[t] = try db.query("select count(*)::int8 as n from \"\(t.replacingOccurrences(of: "\"", with: "\"\""))\"").first!.decode("n")
        }
        return counts
    }

    /// Dumps the database at `url` into `directory` (custom format), with a `.counts.json` beside it.
    /// Returns the dump's path.
    public static func dump(_ url: String, into directory: URL, label: String = "backup") throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let db = try PGConnection(url)
        let name: String = try db.query("select current_database() as d").first!.decode("d")
        let counts = try Self.rowCounts(db)
        db.close()
        let stamp = Date.ISO8601FormatStyle().format(Date()).replacingOccurrences(of: ":", with: "")
        let file = directory.appendingPathComponent("\(name)-\(stamp)-\(label).dump")
        try Self.tool("pg_dump", ["--format=custom", "--no-owner", "--file=\(file.path)", "--dbname=\(url)"])
        let json = try JSONEncoder.sorted.encode(counts)
        try json.write(to: Self.countsFile(for: file))
        return file
    }

    /// Creates the (empty) database a `postgresql://…/NAME` URL names, connecting to `postgres` on the same server.
    public static func createDatabase(named url: String) throws {
        guard var c = URLComponents(string: url), let name = c.path.split(separator: "/").last.map(String.init), let _ = c.scheme else {
            throw Failure(.invalidURL, "--into is a postgresql:// URL naming the database")
        }
        c.path = "/postgres"
        let admin = try PGConnection(c.string ?? url)
        defer { admin.close() }
        try admin.execute("create database \"\(name.replacingOccurrences(of: "\"", with: ""))\"")
    }

    /// Restores `file` into the (empty) database at `url` and compares every table's row count with
    /// the counts taken at dump time. Returns the tables whose counts differ (empty when all match).
    @discardableResult
    public static func restore(_ file: URL, into url: String) throws -> [String: (expected: Int, restored: Int)] {
        guard FileManager.default.fileExists(atPath: file.path) else { throw Failure(.noBackup, "no backup at \(file.path)") }
        try Self.tool("pg_restore", ["--no-owner", "--exit-on-error", "--dbname=\(url)", file.path])
        guard let data = try? Data(contentsOf: Self.countsFile(for: file)),
              let expected = try? JSONDecoder().decode([String: Int].self, from: data) else {
            throw Failure(.countsMissing, "restored, but \(Self.countsFile(for: file).lastPathComponent) is missing: nothing to compare with")
        }
        let db = try PGConnection(url)
        defer { db.close() }
        let restored = try Self.rowCounts(db)
        var differ: [String: (Int, Int)] = [:]
        for (t, n) in expected where restored[t] != n { differ[t] = (n, restored[t] ?? -1) }
        return differ
    }

    static func countsFile(for dump: URL) -> URL { dump.deletingPathExtension().appendingPathExtension("counts.json") }

    static func tool(_ name: String, _ args: [String]) throws {
        guard let result = ExternalTool.run(name, args) else { throw Failure(.toolMissing, "\(name) is not installed (Debian: postgresql-client)") }
        guard result.status == 0 else { throw Failure(.toolFailed, "\(name) failed (exit \(result.status)): \(result.errors.prefix(2000))") }
    }

    /// How a migration gets its backup: taken now into a directory, or an existing one no older than
    /// `maxAge`.
    public enum Plan: Sendable {
        case takeInto(URL)
        case existing(URL, maxAge: TimeInterval)
    }

    /// Applies pending migrations (or rolls back `down` of them) only after making sure a fresh backup
    /// exists; with nothing to change, takes none. Returns the backup used and what changed.
    public static func migrateSafely(_ url: String, plan: Plan, down: Int? = nil) throws -> (backup: URL?, changed: [Migration]) {
        let migrator = Migrator(migrations: try Schema.migrations())
        let db = try PGConnection(url)
        defer { db.close() }
        let status = try migrator.status(db)
        let pending = status.filter { $0.appliedAt == nil }
        let willChange = down.map { $0 > 0 && status.contains { $0.appliedAt != nil } } ?? !pending.isEmpty
        guard willChange else { return (nil, []) }
        // The workers' role (rapport_app) may not change the schema: say so, rather than fail in pg_dump.
        let user: String = try db.query("select current_user::text as u").first!.decode("u")
        guard try db.query("select has_schema_privilege('public', 'CREATE') as ok").first!.decode("ok", as: Bool.self) else {
            throw Failure(.notOwner, "the schema has \(pending.count) migration(s) to apply and \(user) may not change it: run `rapport migrate` as the owner role first")
        }
        let backup: URL
        switch plan {
        case .takeInto(let dir):
            backup = try Self.dump(url, into: dir, label: down == nil ? "before-\(pending.first!.migration.version)" : "before-down")
        case .existing(let file, let maxAge):
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: file.path), let modified = attrs[.modificationDate] as? Date else {
                throw Failure(.noBackup, "refusing to change the schema: no backup at \(file.path)")
            }
            guard Date().timeIntervalSince(modified) <= maxAge else {
                throw Failure(.noBackup, "refusing to change the schema: \(file.lastPathComponent) is \(Int(Date().timeIntervalSince(modified) / 60)) minutes old (at most \(Int(maxAge / 60)))")
            }
            backup = file
        }
        let changed = try down.map { try migrator.rollback(db, steps: $0) } ?? migrator.migrate(db)
        return (backup, changed)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }
}

extension ErrorCode where Owner == Backup.Failure {
    /// The target is not a postgresql:// URL naming a database.
    public static let invalidURL = Self("invalid_url")
    /// There is no (fresh enough) backup to rely on.
    public static let noBackup = Self("no_backup")
    /// The row counts saved with the backup are missing.
    public static let countsMissing = Self("counts_missing")
    /// pg_dump or pg_restore is not installed.
    public static let toolMissing = Self("tool_missing")
    /// pg_dump or pg_restore failed.
    public static let toolFailed = Self("tool_failed")
    /// The schema must change and this role may not change it (the workers' role: migrate as the owner).
    public static let notOwner = Self("not_owner")
}
