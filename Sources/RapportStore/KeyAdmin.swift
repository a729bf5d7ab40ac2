import Foundation
import RapportSupport
import RapportPostgres

/// Key operations (`rapport keys`): a new KEK with every data key re-wrapped online, status, and the
/// destruction of every key for media being retired.
public struct KeyAdmin: Sendable {
    public let db: PGConnection
    public let keyring: Keyring

    public init(db: PGConnection, keyring: Keyring) {
        self.db = db
        self.keyring = keyring
    }

    /// Data keys per KEK, and which KEK is current.
    public func status() throws -> [(kek: String, current: Bool, retired: Bool, dataKeys: Int)] {
        try self.db.query(
            """
            select k.id, k.current, k.retired_at is not null as retired, (select count(*) from data_keys d where d.kek_id = k.id)::int8 as n
            from key_encryption_keys k order by k.created_at, k.id
            """).map { (try $0.decode("id"), try $0.decode("current"), try $0.decode("retired"), try $0.decode("n")) }
    }

    /// Makes `new` (already in the KEK file, so workers find it) the current KEK, then re-wraps every data key
    /// under another KEK in batches of `batch`, each its own short transaction, while ingest goes on. Run it
    /// again after an interruption and it goes on where it stopped. When a pass finds nothing left it waits
    /// out the workers' KEK refresh and looks once more, then retires the old KEKs.
    ///
    /// - Returns: how many data keys were re-wrapped.
    @discardableResult
    public func rotate(to new: KeyEncryptionKey, batch: Int = 1000, settle: TimeInterval = Keyring.currentTTL + 1,
                       actor: String, progress: (_ done: Int, _ left: Int) -> Void = { _, _ in }) throws -> Int {
        try self.db.transaction {
            try self.db.query("select pg_advisory_xact_lock(\(Keyring.lock))")
            try self.db.query(
                "insert into key_encryption_keys (id, suite, check_mac) values ($1, $2, $3) on conflict (id) do nothing",
                [new.id, new.suite.name, new.check])
            try self.db.query("update key_encryption_keys set current = false where current and id <> $1", [new.id])
            try self.db.query("update key_encryption_keys set current = true, retired_at = null where id = $1", [new.id])
            try AuditLog(db: self.db).append(actor: actor, action: "keys.rotate.started", targets: ["kek:\(new.id)"])
        }
        var done = 0
        var settled = false
        while true {
            let n = try self.db.transaction { () throws -> Int in
                let rows = try self.db.query(
                    "select id, kek_id, wrapped from data_keys where kek_id <> $1 order by id limit $2 for update skip locked",
                    [new.id, batch])
                guard !rows.isEmpty else { return 0 }
                var ids: [String] = [], wrapped: [String] = []
                for row in rows {
                    let id: UUID = try row.decode("id")
                    let oldID: String = try row.decode("kek_id")
                    guard let old = self.keyring.kek(oldID) else {
                        throw KeyringError(.kekMissing, "data key \(id) is wrapped by \(oldID), which is not in the KEK file")
                    }
                    let key: [UInt8]
                    do { key = try old.unwrap(Array(row.decode("wrapped", as: Data.self)), keyID: id) } catch {
                        throw KeyringError(.kekMismatch, "data key \(id) does not unwrap under \(oldID): \(error)")
                    }
                    ids.append(id.uuidString.lowercased())
                    wrapped.append(Hex.encode(new.wrap(key, keyID: id)))
                }
                try self.db.query(
                    """
                    update data_keys d set kek_id = $2, wrapped = decode(x.w, 'hex')
                    from unnest($1::uuid[], $3::text[]) as x(i, w) where d.id = x.i
                    """, [ids, new.id, wrapped])
                return rows.count
            }
            done += n
            let left: Int = try self.db.query("select count(*)::int8 as n from data_keys where kek_id <> $1", [new.id]).first!.decode("n")
            progress(done, left)
            if n > 0 || left > 0 { settled = false; continue }
            if settled { break }
            // A worker may still wrap with the old KEK until it reads the new current one.
            Thread.sleep(forTimeInterval: settle)
            settled = true
        }
        try self.db.transaction {
            try self.db.query("update key_encryption_keys set retired_at = now() where id <> $1 and retired_at is null", [new.id])
            try AuditLog(db: self.db).append(actor: actor, action: "keys.rotate.finished", targets: ["kek:\(new.id)"], detail: "\(done) data keys re-wrapped")
        }
        return done
    }

    /// Destroys every data key (and retires every KEK): every sealed value in this database and in every
    /// backup of it becomes unreadable once the KEK file is destroyed too (the caller does that).
    /// `confirmation` must be the database's name.
    @discardableResult
    public func destroyAll(confirmation: String, actor: String) throws -> Int {
        let name: String = try self.db.query("select current_database() as n").first!.decode("n")
        guard confirmation == name else {
            throw KeyringError(.notConfirmed, "type the database's name (\(name)) to destroy every key")
        }
        let n = try self.db.transaction { () throws -> Int in
            try self.db.query("select pg_advisory_xact_lock(\(Keyring.lock))")
            let n = try self.db.query("delete from data_keys returning 1").count
            try self.db.query("update key_encryption_keys set current = false, retired_at = now()")
            try AuditLog(db: self.db).append(actor: actor, action: "keys.destroyed", detail: "\(n) data keys")
            return n
        }
        try self.db.query("vacuum full data_keys")
        return n
    }
}
