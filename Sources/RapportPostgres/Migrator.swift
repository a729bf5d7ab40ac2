import RapportSupport
public import Foundation

/// Applies and rolls back ``Migration``s, recording them in a table.
///
/// Each applied migration has a row in the migrations table (default
/// `rapport_schema_migrations`) holding its version, name, a checksum of its ``Migration/up``
/// script and when it was applied. The table is created on first use.
///
/// ```swift
/// let migrations = try Migrator.load(directory: Bundle.module.url(forResource: "Migrations", withExtension: nil)!)
/// let applied = try Migrator(migrations: migrations).migrate(connection)
/// ```
///
/// ``migrate(_:to:)`` and ``rollback(_:steps:)`` hold a session-level `pg_advisory_lock` (keyed
/// by the table's schema-qualified name) while they run, so several processes may call them at
/// once against one database: each migration is still applied exactly once.
///
/// - Important: Calls block; see ``PGConnection``.
public struct Migrator: Sendable {
    /// The migrations this migrator knows, as given.
    public let migrations: [Migration]
    /// The migrations table name, optionally schema-qualified (`schema.table`).
    public let table: String

    /// Creates a migrator.
    ///
    /// - Parameters:
    ///   - migrations: The known migrations, in any order. Versions must be unique; this is
    ///     checked when the migrator is used.
    ///   - table: The table recording applied migrations, optionally schema-qualified
    ///     (`schema.table`). Each dot-separated part is quoted as an identifier, so it is used
    ///     exactly as written (case-sensitive). An unqualified name is resolved through the
    ///     connection's `search_path`. Defaults to `rapport_schema_migrations`.
    public init(migrations: [Migration], table: String = "rapport_schema_migrations") {
        self.migrations = migrations
        self.table = table
    }

    // MARK: - Loading

    /// Loads migrations from pairs of SQL files in a directory.
    ///
    /// Each migration is two files: `NNNN_name.up.sql` and `NNNN_name.down.sql`, where `NNNN`
    /// is the decimal version (any number of digits, leading zeros allowed) and `name` is the
    /// ``Migration/name``. Files not ending in `.sql` are ignored. Files are read as UTF-8.
    ///
    /// - Parameter directory: The directory to read (not recursive).
    /// - Returns: The migrations, sorted by version.
    /// - Throws: ``PGError`` with code ``PGError/Code/migration`` naming the file when the
    ///   directory or a file cannot be read, a `.sql` file is not named as above, one half of a
    ///   pair is missing, or two files use the same version.
    public static func load(directory: URL) throws -> [Migration] {
        let urls: [URL]
        do {
            urls = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        } catch {
            throw PGError(.migration, message: "cannot list migrations directory \(directory.path): \(error)")
        }

        struct Pair {
            var name: String
            var up: (file: String, text: String)?
            var down: (file: String, text: String)?
        }
        var pairs: [Int: Pair] = [:]

        for url in urls.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let file = url.lastPathComponent
            guard file.hasSuffix(".sql") else {
                continue
            }
            guard let parsed = Self.parseFileName(file) else {
                throw PGError(
                    .migration,
                    message: "\(file): migration files must be named NNNN_name.up.sql or NNNN_name.down.sql"
                )
            }
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw PGError(.migration, message: "\(file): cannot read migration file: \(error)")
            }
            var pair = pairs[parsed.version] ?? Pair(name: parsed.name)
            let other = pair.up?.file ?? pair.down?.file
            if pair.name != parsed.name || (parsed.isUp ? pair.up : pair.down) != nil {
                throw PGError(
                    .migration,
                    message: "\(file): duplicate migration version \(parsed.version) (also used by \(other ?? "another file"))"
                )
            }
            if parsed.isUp {
                pair.up = (file, text)
            } else {
                pair.down = (file, text)
            }
            pairs[parsed.version] = pair
        }

        return try pairs.sorted(by: { $0.key < $1.key }).map { version, pair in
            guard let up = pair.up else {
                let present = pair.down?.file ?? ""
                let missing = present.replacingOccurrences(of: ".down.sql", with: ".up.sql")
                throw PGError(.migration, message: "missing \(missing) for \(present)")
            }
            guard let down = pair.down else {
                let missing = up.file.replacingOccurrences(of: ".up.sql", with: ".down.sql")
                throw PGError(.migration, message: "missing \(missing) for \(up.file)")
            }
            return Migration(version: version, name: pair.name, up: up.text, down: down.text)
        }
    }

    /// Splits `0001_create_jobs.up.sql` into version, name and direction.
    private static func parseFileName(_ file: String) -> (version: Int, name: String, isUp: Bool)? {
        let isUp: Bool
        let stem: Substring
        if file.hasSuffix(".up.sql") {
            isUp = true
            stem = file.dropLast(".up.sql".count)
        } else if file.hasSuffix(".down.sql") {
            isUp = false
            stem = file.dropLast(".down.sql".count)
        } else {
            return nil
        }
        guard let underscore = stem.firstIndex(of: "_") else {
            return nil
        }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), !name.isEmpty,
            let version = Int(digits)
        else {
            return nil
        }
        return (version, String(name), isUp)
    }

    // MARK: - Status

    /// Lists every known migration with when it was applied.
    ///
    /// Does not take the lock and does not create the table (with no table, nothing is
    /// applied). Rows for versions this migrator does not know are not listed.
    ///
    /// - Parameter connection: The connection to use.
    /// - Returns: All known migrations in version order, with `appliedAt` set for applied ones.
    /// - Throws: ``PGError`` with code ``PGError/Code/migration`` for duplicate versions, or
    ///   the ``PGError`` of a failed query.
    public func status(_ connection: PGConnection) throws -> [(migration: Migration, appliedAt: Date?)] {
        let ordered = try self.orderedMigrations()
        let applied = try self.tableExists(connection) ? self.appliedRows(connection) : [:]
        return ordered.map { (migration: $0, appliedAt: applied[$0.version]?.appliedAt) }
    }

    // MARK: - Migrate

    /// Applies pending migrations in version order.
    ///
    /// Each migration runs in its own transaction together with inserting its row (version,
    /// name, checksum of ``Migration/up``, `applied_at`), so a failed migration leaves no trace
    /// and the ones before it stay applied. A pending migration whose version is lower than an
    /// applied one is still applied. Applied versions unknown to this migrator are ignored.
    ///
    /// Serialised with `pg_advisory_lock`, so concurrent callers (in any process) are safe.
    ///
    /// - Parameters:
    ///   - connection: The connection to use. It may already be inside a transaction, in which
    ///     case savepoints are used, but then nothing is durable until the caller commits.
    ///   - target: The highest version to apply; `nil` (the default) applies all. A target
    ///     below applied versions does not roll anything back.
    /// - Returns: The migrations applied by this call, in order (empty when up to date).
    /// - Throws: ``PGError`` with code ``PGError/Code/migration`` if versions are duplicated, if
    ///   an applied migration's checksum differs from its ``Migration/up`` (it was edited after
    ///   being applied; nothing is applied then), or if a migration script fails (the SQLSTATE
    ///   is kept, and later migrations are not attempted).
    @discardableResult
    public func migrate(_ connection: PGConnection, to target: Int? = nil) throws -> [Migration] {
        let ordered = try self.orderedMigrations()
        return try self.withLock(connection) {
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS \(self.quotedTable) (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            let applied = try self.appliedRows(connection)
            for migration in ordered {
                if let row = applied[migration.version], row.checksum != migration.checksum {
                    throw PGError(
                        .migration,
                        message:
                            "migration \(migration.version) (\(migration.name)) was edited after it was applied: "
                            + "checksum \(migration.checksum) does not match recorded \(row.checksum)"
                    )
                }
            }
            var done: [Migration] = []
            for migration in ordered where applied[migration.version] == nil {
                if let target, migration.version > target {
                    break
                }
                try self.run(migration, direction: "up", on: connection) {
                    try connection.execute(migration.up)
                    try connection.query(
                        "INSERT INTO \(self.quotedTable) (version, name, checksum, applied_at) VALUES ($1, $2, $3, now())",
                        [Int64(migration.version), migration.name, migration.checksum]
                    )
                }
                done.append(migration)
            }
            return done
        }
    }

    // MARK: - Rollback

    /// Undoes the latest applied migrations, newest first.
    ///
    /// Each migration's ``Migration/down`` runs in its own transaction together with deleting
    /// its row. Serialised with the same advisory lock as ``migrate(_:to:)``.
    ///
    /// - Parameters:
    ///   - connection: The connection to use.
    ///   - steps: How many applied migrations to undo; `0` or less does nothing. Fewer are
    ///     undone if fewer are applied.
    /// - Returns: The migrations rolled back, newest first.
    /// - Throws: ``PGError`` with code ``PGError/Code/migration`` if versions are duplicated, if
    ///   one of the latest `steps` applied versions is not known to this migrator (checked
    ///   before anything runs), or if a `down` script fails (later ones are not attempted).
    @discardableResult
    public func rollback(_ connection: PGConnection, steps: Int) throws -> [Migration] {
        let ordered = try self.orderedMigrations()
        guard steps > 0 else {
            return []
        }
        let byVersion = Dictionary(uniqueKeysWithValues: ordered.map { ($0.version, $0) })
        return try self.withLock(connection) {
            guard try self.tableExists(connection) else {
                return []
            }
            let latest = try connection.query(
                "SELECT version, name FROM \(self.quotedTable) ORDER BY version DESC LIMIT $1",
                [Int64(steps)]
            )
            let toUndo: [Migration] = try latest.map { row in
                let version = try row.decode("version", as: Int.self)
                guard let migration = byVersion[version] else {
                    let name = row["name"] ?? ""
                    throw PGError(
                        .migration,
                        message: "applied migration \(version) (\(name)) is unknown to this migrator; cannot roll it back"
                    )
                }
                return migration
            }
            var done: [Migration] = []
            for migration in toUndo {
                try self.run(migration, direction: "down", on: connection) {
                    try connection.execute(migration.down)
                    try connection.query(
                        "DELETE FROM \(self.quotedTable) WHERE version = $1",
                        [Int64(migration.version)]
                    )
                }
                done.append(migration)
            }
            return done
        }
    }

    // MARK: - Internals

    private struct AppliedRow {
        var name: String
        var checksum: String
        var appliedAt: Date
    }

    /// `"schema"."table"` or `"table"`.
    private var quotedTable: String {
        self.table.split(separator: ".", omittingEmptySubsequences: false)
            .map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            .joined(separator: ".")
    }

    private func orderedMigrations() throws -> [Migration] {
        let ordered = self.migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.version == next.version {
            throw PGError(
                .migration,
                message: "duplicate migration version \(next.version) (\(previous.name), \(next.name))"
            )
        }
        return ordered
    }

    private func tableExists(_ connection: PGConnection) throws -> Bool {
        let result = try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [self.quotedTable])
        return try result.first?.decode("present", as: Bool.self) ?? false
    }

    private func appliedRows(_ connection: PGConnection) throws -> [Int: AppliedRow] {
        let result = try connection.query("SELECT version, name, checksum, applied_at FROM \(self.quotedTable)")
        var rows: [Int: AppliedRow] = [:]
        for row in result {
            rows[try row.decode("version")] = AppliedRow(
                name: try row.decode("name"),
                checksum: try row.decode("checksum"),
                appliedAt: try row.decode("applied_at")
            )
        }
        return rows
    }

    /// Runs `body` while holding the migrator's session-level advisory lock.
    private func withLock<T>(_ connection: PGConnection, _ body: () throws -> T) throws -> T {
        var qualified = self.table
        if !self.table.contains(".") {
            let schema = try connection.query("SELECT current_schema() AS schema").first?["schema"] ?? ""
            qualified = schema + "." + self.table
        }
        let key = Int64(bitPattern: StableHash.fnv1a("rapport.migrator:" + qualified))
        try connection.query("SELECT pg_advisory_lock($1::bigint)", [key])
        defer {
            if connection.isConnected {
                _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [key])
            }
        }
        return try body()
    }

    /// Runs one migration step in a transaction, naming the migration in any query error.
    private func run(
        _ migration: Migration,
        direction: String,
        on connection: PGConnection,
        _ body: () throws -> Void
    ) throws {
        do {
            try connection.transaction(body)
        } catch let error as PGError where error.code == .query {
            var wrapped = PGError(
                .migration,
                message: "migration \(migration.version) (\(migration.name)) \(direction) failed: \(error.message)",
                sqlState: error.sqlState,
                detail: error.detail
            )
            wrapped.connectionLost = error.connectionLost
            throw wrapped
        }
    }
}
