import Foundation
import RapportCore
import RapportPostgres
import RapportStore
import RapportSupport
import RapportTesting
import RapportServices
import Testing

/// The audit chain in PostgreSQL: written with the change, append-only, and every kind of tampering
/// (by someone able to switch the guard off) found and named by `verify`.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run audit tests"))
struct AuditIntegrationTests {
    /// A chain of real changes: a customer added, edited and deleted, a source registered, a refusal.
    static func seeded(_ env: TestEnvironment, _ db: PGConnection) throws -> UUID {
        let customers = Customers(db: db, keyring: env.keyring)
        guard case .created(let id, _) = try customers.add(["name": "审计测试公司", "phones": ["13800138000"]], actor: "admin") else {
            throw TestFailure("the customer was not created")
        }
        _ = try customers.edit(id, version: 1, patch: ["industry": "制造"], actor: "admin")
        try customers.delete(id, actor: "admin")
        try SourceRegistry(db: db).add("site-main", mustSign: false, publicKey: nil)
        try Principals(db: db).refused(principal: "u-li", routingKey: "lead.claim", messageID: "m-1", reason: "acts only for rep-li")
        return id
    }

    @Test func changesAreChainedAndTheChainHolds() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let id = try Self.seeded(env, db)
        let log = AuditLog(db: db)
        let r = try log.verify()
        #expect(r.break == nil && r.checked == 5)
        #expect(try log.history(target: id.uuidString.lowercased()).map(\.action) == ["customer.add", "customer.change", "customer.change"])
        // No personal data: the name and phone are nowhere in the chain.
        #expect(try env.count("select count(*)::int8 as n from audit_log where detail like '%审计%' or detail like '%13800138000%'") == 0)
        // Append-only: the guard refuses an UPDATE and a DELETE.
        #expect(throws: PGError.self) { try db.query("update audit_log set actor = 'x' where seq = 1") }
        #expect(throws: PGError.self) { try db.query("delete from audit_log where seq = 1") }
    }

    /// Someone who can switch the guard off (a superuser) edits, deletes or inserts: each is named.
    @Test(arguments: ["update", "delete", "insert"])
    func tamperingIsFoundAndNamed(_ kind: String) throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        _ = try Self.seeded(env, db)
        try db.execute("alter table audit_log disable trigger audit_log_append_only")
        switch kind {
        case "update": try db.execute("update audit_log set actor = 'someone' where seq = 3")
        case "delete": try db.execute("delete from audit_log where seq = 3")
        default:
            // A row slipped in at 3: the later ones moved up, the forged row hashed properly after row 2.
            let two = try #require(try db.query("select hash from audit_log where seq = 2").first?.decode("hash", as: String.self))
            let forged = AuditChain.next(after: (2, two), at: Date(), actor: "forger", action: "customer.change", targets: [], detail: "")
            try db.execute("update audit_log set seq = seq + 1000 where seq >= 3")
            try db.execute("update audit_log set seq = seq - 999 where seq >= 1003")
            try db.query("insert into audit_log (seq, at, actor, action, targets, detail, prev_hash, hash) values (3, $1, $2, $3, '{}', '', $4, $5)",
                         [forged.at, forged.actor, forged.action, forged.prevHash, forged.hash])
        }
        let r = try AuditLog(db: db).verify()
        let b = try #require(r.break)
        #expect(b.seq == (kind == "insert" ? 4 : 3), "\(b)")
        #expect(r.checked == 2 || (kind == "insert" && r.checked == 3))
    }

    /// Deleting the newest rows leaves a chain that holds on its own; a signed checkpoint catches it.
    @Test func aCutOffTailIsCaughtAgainstACheckpoint() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        _ = try Self.seeded(env, db)
        let key = Ed25519.PrivateKey()
        let log = AuditLog(db: db)
        let first = try #require(try db.transaction { try log.checkpoint(key: .ed25519(key)) })
        #expect(first.seq == 5)
        #expect(try db.transaction { try log.checkpoint(key: .ed25519(key), since: 5) } == nil)  // nothing new: no checkpoint
        #expect(try env.count("select count(*)::int8 as n from outbox where routing_key = 'audit.checkpoint'") == 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(env.name)-checkpoints.jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try AuditCheckpointer.append(first, to: file)
        #expect(try log.verify(checkpoints: try AuditCheckpointer.read(file), key: .ed25519(key.publicKey)) == nil)
        #expect(try log.verify(checkpoints: try AuditCheckpointer.read(file), key: .ed25519(Ed25519.PrivateKey().publicKey))?.seq == 5)

        try db.execute("alter table audit_log disable trigger audit_log_append_only")
        try db.execute("delete from audit_log where seq >= 4")
        #expect(try log.verify().break == nil)  // on its own the shortened chain holds…
        let b = try #require(try log.verify(checkpoints: try AuditCheckpointer.read(file), key: .ed25519(key.publicKey)))
        #expect(b.seq == 4 && b.reason.contains("cut off"), "\(b)")  // …the checkpoint does not
    }
}
