import Foundation
import RapportPostgres
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run backup integration tests"))
struct BackupIntegrationTests {
    static func withDatabase(_ body: (String) throws -> Void) throws {
        let env = ProcessInfo.processInfo.environment
        let admin = try PGConnection(env["RAPPORT_PG_ADMIN_URL"] ?? env["RAPPORT_PG_URL"]!)
        defer { admin.close() }
        let name = "rb_" + UUID().uuidString.prefix(8).lowercased()
        try admin.execute("create database \(name)")
        defer { try? admin.execute("drop database if exists \(name) with (force)") }
        try body(TestEnvironment.replacingDatabase(in: env["RAPPORT_PG_URL"]!, with: name))
    }

    @Test(.timeLimit(.minutes(2)))
    func backupRestoresIntoANewDatabaseWithTheSameRowCounts() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish((0..<6).map { DemoData.webForm($0 % 4, run: "bk", messageID: "bk-\($0)") })
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 6 }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-backups-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try Backup.dump(env.settings.postgresURL, into: dir)
        #expect(FileManager.default.fileExists(atPath: file.path))
        try Self.withDatabase { target in
            #expect(try Backup.restore(file, into: target).isEmpty)
            let db = try PGConnection(target)
            defer { db.close() }
            #expect(try Backup.rowCounts(db)["leads"] == 4)
            #expect(try Backup.rowCounts(db)["inbound_ledger"] == 6)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func noMigrationWithoutAFreshBackup() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-backups-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.withDatabase { url in
            // Pointed at a backup that is not there, or too old: refused, and nothing applied.
            #expect(throws: Backup.Failure.self) { try Backup.migrateSafely(url, plan: .existing(dir.appendingPathComponent("none.dump"), maxAge: 3600)) }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let old = dir.appendingPathComponent("old.dump")
            try Data("x".utf8).write(to: old)
            try FileManager.default.setAttributes([.modificationDate: Date() - 7200], ofItemAtPath: old.path)
            #expect(throws: Backup.Failure.self) { try Backup.migrateSafely(url, plan: .existing(old, maxAge: 3600)) }
            let db = try PGConnection(url)
            defer { db.close() }
            #expect(try Backup.rowCounts(db).isEmpty)
            // Taking one itself: a dump appears, then the schema.
            let (backup, applied) = try Backup.migrateSafely(url, plan: .takeInto(dir))
            #expect(backup.map { FileManager.default.fileExists(atPath: $0.path) } == true)
            #expect(applied.count == (try Schema.migrations().count))
            // Nothing to change: no backup needed, none taken.
            #expect(try Backup.migrateSafely(url, plan: .takeInto(dir)).backup == nil)
            // Down one takes a backup first too.
            let down = try Backup.migrateSafely(url, plan: .takeInto(dir), down: 1)
            #expect(down.backup != nil && down.changed.count == 1)
        }
    }
}
