import RapportSupport
/// One versioned schema change: SQL to apply it and SQL to undo it.
///
/// Versions order migrations and identify them in the migrations table; names are for
/// people. Both scripts may contain several statements. ``Migrator`` runs each script inside a
/// transaction, so a script must not contain `BEGIN`/`COMMIT` or statements that cannot run in
/// a transaction block (such as `CREATE INDEX CONCURRENTLY`).
public struct Migration: Sendable, Hashable {
    /// The version; unique within a set of migrations. Migrations apply in ascending order.
    public var version: Int
    /// A short descriptive name, for example `create_jobs`.
    public var name: String
    /// The SQL that applies the change.
    ///
    /// - Important: Do not edit it after the migration has been applied anywhere: the
    ///   ``Migrator`` stores its checksum and refuses to run when it no longer matches.
    public var up: String
    /// The SQL that undoes ``up``; may be empty when there is nothing to undo.
    public var down: String

    /// Creates a migration.
    ///
    /// - Parameters:
    ///   - version: Unique, ascending version number.
    ///   - name: A short descriptive name.
    ///   - up: SQL that applies the change.
    ///   - down: SQL that undoes it.
    public init(version: Int, name: String, up: String, down: String) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
    }

    /// The checksum stored for ``up``: 64-bit FNV-1a of its UTF-8 bytes, as 16 hex digits.
    internal var checksum: String {
        StableHash.fnv1aHex(self.up)
    }
}
