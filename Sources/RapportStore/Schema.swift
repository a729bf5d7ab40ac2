import Foundation
import RapportPostgres

/// Rapport's database schema: the numbered migrations shipped with the workers.
public enum Schema {
    /// The migrations folder inside the package's resources.
    public static var migrationsDirectory: URL {
        Bundle.module.url(forResource: "Migrations", withExtension: nil)!
    }

    /// All migrations, in version order.
    public static func migrations() throws -> [Migration] {
        try Migrator.load(directory: Self.migrationsDirectory)
    }

    /// Applies every pending migration; returns the versions applied.
    @discardableResult
    public static func migrate(_ db: PGConnection) throws -> [Migration] {
        try Migrator(migrations: Self.migrations()).migrate(db)
    }
}
