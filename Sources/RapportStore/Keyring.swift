import Foundation
import Synchronization
import RapportSupport
import RapportPostgres

/// Envelope encryption: the key-encryption keys from the KEK file, and the data keys they wrap in the
/// `data_keys` table (one per lead, one per dead letter body). Keys never reach the database server: it
/// stores wrapped keys and ciphertext only, and every seal and open happens here.
///
/// Every ciphertext is bound to its table, column, row and key id (the associated data), so a value
/// copied to another row does not open.
public final class Keyring: Sendable {
    /// The file's keys by id (during a rotation, the old one and the new one); the file is read again when
    /// the database names a KEK it does not hold (a rotation started by `rapport keys rotate`).
    private let loaded: Mutex<[String: KeyEncryptionKey]>
    private let file: String?
    public var keks: [String: KeyEncryptionKey] { self.loaded.withLock { $0 } }
    /// The suite new data is sealed with (`cipher_suite`); what is already sealed names its own.
    public let suite: CipherSuite
    /// The database's current KEK, which wraps new data keys; re-read every few seconds so a rotation
    /// reaches running workers.
    private let current: Mutex<(kek: KeyEncryptionKey, readAt: TimeInterval)?> = Mutex(nil)
    /// Unwrapped data keys for writing, so a busy lead's key is not read per batch. Bounded; cleared when full.
    private let cache: Mutex<[UUID: [UInt8]]> = Mutex([:])
    static let cacheLimit = 50_000
    /// The blind index, once read (it changes only with a reindex).
    private let index: Mutex<BlindIndex?> = Mutex(nil)
    public static let currentTTL: TimeInterval = 5

    public init(keks: [KeyEncryptionKey], suite: CipherSuite = .aes256gcm, file: String? = nil) {
        self.loaded = Mutex(Dictionary(keks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }))
        self.suite = suite
        self.order = keks.map(\.id)
        self.file = file
    }

    private let order: [String]

    /// The keyring from a KEK file (see ``KeyEncryptionKey/load(path:)``).
    public convenience init(kekFile: String, suite: CipherSuite = .aes256gcm) throws(KeyringError) {
        do { self.init(keks: try KeyEncryptionKey.load(path: kekFile), suite: suite, file: kekFile) } catch {
            throw KeyringError(.kekMissing, error.description)
        }
    }

    /// The KEK `id`, reading the file again once if it is not known yet.
    public func kek(_ id: String) -> KeyEncryptionKey? {
        if let k = self.loaded.withLock({ $0[id] }) { return k }
        guard let file = self.file, let keys = try? KeyEncryptionKey.load(path: file) else { return nil }
        return self.loaded.withLock { loaded in
            for k in keys where loaded[k.id] == nil { loaded[k.id] = k }
            return loaded[id]
        }
    }

    /// Checks the file's keys against the database before anything is written: every KEK the database
    /// knows and still uses must be in the file with the same check value. A database that knows none
    /// takes the file's first key as current. A wrong or missing KEK is an error naming the key.
    public func attach(db: PGConnection) throws {
        try db.transaction {
            try db.query("select pg_advisory_xact_lock(\(Self.lock))")
            let known = try db.query(
                """
                select k.id, k.check_mac, k.current, exists (select 1 from data_keys d where d.kek_id = k.id) as used
                from key_encryption_keys k where k.retired_at is null
                """)
            if known.isEmpty {
                let first = self.kek(self.order[0])!
                try db.query("insert into key_encryption_keys (id, suite, check_mac, current) values ($1, $2, $3, true)",
                             [first.id, first.suite.name, Data(first.check)])
                return
            }
            for row in known {
                let id: String = try row.decode("id")
                let inUse = try row.decode("current", as: Bool.self) || row.decode("used", as: Bool.self)
                guard let kek = self.kek(id) else {
                    if inUse { throw KeyringError(.kekMissing, "the database's key-encryption key \(id) is not in the KEK file; nothing was written") }
                    continue
                }
                guard try Array(row.decode("check_mac", as: Data.self)) == kek.check else {
                    throw KeyringError(.kekMismatch, "the KEK file's key \(id) is not the key the database was encrypted with (wrong KEK file); nothing was written")
                }
            }
        }
        _ = try self.blindIndex(db: db)
    }

    /// The KEK that wraps new data keys.
    func currentKEK(db: PGConnection) throws -> KeyEncryptionKey {
        let now = ProcessInfo.processInfo.systemUptime
        if let c = self.current.withLock({ $0 }), now - c.readAt < Self.currentTTL { return c.kek }
        guard let id: String = try db.query("select id from key_encryption_keys where current").first?.decode("id") else {
            throw KeyringError(.kekMissing, "the database has no current key-encryption key (run the worker or `rapport keys init` once)")
        }
        guard let kek = self.kek(id) else {
            throw KeyringError(.kekMissing, "the database's current key-encryption key \(id) is not in the KEK file")
        }
        self.current.withLock { $0 = (kek, now) }
        return kek
    }

    /// The data keys of `ids`, unwrapped; with `create`, the missing ones are made, wrapped under the
    /// current KEK and stored (in the caller's transaction). Without `create`, a missing key is simply
    /// absent from the result: that person was erased.
    public func dataKeys(_ ids: some Collection<UUID>, create: Bool, db: PGConnection) throws -> [UUID: [UInt8]] {
        var out: [UUID: [UInt8]] = [:]
        var missing: [UUID] = []
        // Reads always ask the database, so a key erased by another process is gone here too; writes may
        // use the cache (what they seal under an erased key nobody can read).
        if create {
            self.cache.withLock { cache in
                for id in ids { if let k = cache[id] { out[id] = k } else { missing.append(id) } }
            }
        } else {
            missing = Array(ids)
        }
        guard !missing.isEmpty else { return out }
        let text = missing.map { $0.uuidString.lowercased() }
        for row in try db.query("select id, kek_id, wrapped from rapport_data_keys($1::uuid[])", [text]) {
            let id: UUID = try row.decode("id")
            out[id] = try self.unwrap(row: row, id: id)
        }
        if create {
            let absent = missing.filter { out[$0] == nil }
            if !absent.isEmpty {
                let kek = try self.currentKEK(db: db)
                var made: [UUID: [UInt8]] = [:]
                for id in absent { made[id] = RandomBytes.make(CipherSuite.keyLength) }
                let ids = Array(made.keys)
                let inserted = try db.query(
                    """
                    insert into data_keys (id, kek_id, wrapped)
                    select i, $2, decode(w, 'hex') from unnest($1::uuid[], $3::text[]) as x(i, w)
                    on conflict (id) do nothing returning id
                    """, [ids.map { $0.uuidString.lowercased() }, kek.id, ids.map { Hex.encode(kek.wrap(made[$0]!, keyID: $0)) }])
                for row in inserted { let id: UUID = try row.decode("id"); out[id] = made[id] }
                // Another transaction made some meanwhile: theirs stand.
                let raced = absent.filter { out[$0] == nil }
                if !raced.isEmpty {
                    for row in try db.query("select id, kek_id, wrapped from rapport_data_keys($1::uuid[])",
                                            [raced.map { $0.uuidString.lowercased() }]) {
                        let id: UUID = try row.decode("id")
                        out[id] = try self.unwrap(row: row, id: id)
                    }
                }
            }
        }
        if create { self.cache.withLock { cache in
            if cache.count > Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            for id in missing { if let k = out[id] { cache[id] = k } }
        } }
        return out
    }

    private func unwrap(row: PGRow, id: UUID) throws -> [UInt8] {
        let kekID: String = try row.decode("kek_id")
        guard let kek = self.kek(kekID) else {
            throw KeyringError(.kekMissing, "data key \(id) is wrapped by \(kekID), which is not in the KEK file")
        }
        do { return try kek.unwrap(Array(row.decode("wrapped", as: Data.self)), keyID: id) } catch {
            throw KeyringError(.kekMismatch, "data key \(id) does not unwrap under \(kekID): \(error)")
        }
    }

    /// The database's current blind index (``BlindIndex``), made on first use: a new index key, a data
    /// key wrapped like any other, with the digest of this keyring's suite.
    ///
    /// A database that already holds plaintext keys (written before blind indexes, or with encryption
    /// off) gets version 0, plain, and keeps working so until `rapport keys reindex`.
    public func blindIndex(db: PGConnection) throws -> BlindIndex {
        if let index = self.index.withLock({ $0 }) { return index }
        let index = try db.transaction { () throws -> BlindIndex in
            try db.query("select pg_advisory_xact_lock(\(Self.lock))")
            if let row = try db.query("select version, key_id, digest from index_keys where current").first {
                return try self.index(row, db: db)
            }
            let plain = try !db.query(
                """
                select 1 from (select key from lead_identities limit 1) a union all select 1 from (select key from lead_keys limit 1) b
                union all select 1 from (select key from customer_identities limit 1) c
                """).isEmpty
            if plain {
                try db.query("insert into index_keys (version, key_id, digest) values (0, null, 'plain')")
                return .plain
            }
            let id = UUID()
            let key = try self.dataKeys([id], create: true, db: db)[id]!
            try db.query("insert into index_keys (version, key_id, digest) values (1, $1::uuid, $2)",
                         [id.uuidString.lowercased(), self.suite.digest.rawValue])
            return BlindIndex(key: key, digest: self.suite.digest, version: 1)
        }
        self.index.withLock { $0 = index }
        return index
    }

    /// The index an `index_keys` row names.
    func index(_ row: PGRow, db: PGConnection) throws -> BlindIndex {
        let name: String = try row.decode("digest")
        guard let id: UUID = try row.decodeIfPresent("key_id"), let digest = Digest(rawValue: name) else { return .plain }
        guard let key = try self.dataKeys([id], create: false, db: db)[id] else {
            throw KeyringError(.kekMissing, "the blind-index key \(id) is gone (keys destroyed)")
        }
        return BlindIndex(key: key, digest: digest, version: try row.decode("version"))
    }

    /// The current blind index, read inside the caller's transaction with a share lock on its row, so a
    /// reindex cannot commit between this and the caller's writes (it waits, or this waits for it). Keys
    /// made under another version must be made again.
    public func currentIndex(db: PGConnection) throws -> BlindIndex {
        let version: Int? = try db.query("select rapport_index_version() as version").first?.decodeIfPresent("version")
        if let index = self.index.withLock({ $0 }), index.version == version { return index }
        self.forgetIndex()
        return try self.blindIndex(db: db)
    }

    /// Forgets the cached blind index (after a reindex).
    public func forgetIndex() { self.index.withLock { $0 = nil } }

    /// Forgets cached keys (after an erase in this process).
    public func forget(_ ids: some Sequence<UUID>) {
        self.cache.withLock { cache in for id in ids { cache[id] = nil } }
    }

    /// The associated data that binds a ciphertext to its place.
    public static func aad(table: String, column: String, row: String, key: UUID) -> [UInt8] {
        Array("\(table)|\(column)|\(row)|\(key.uuidString.lowercased())".utf8)
    }

    public func seal(_ plaintext: [UInt8], key: [UInt8], table: String, column: String, row: String, keyID: UUID) -> [UInt8] {
        self.suite.seal(plaintext, key: key, aad: Self.aad(table: table, column: column, row: row, key: keyID))
    }

    public func open(_ sealed: [UInt8], key: [UInt8], table: String, column: String, row: String, keyID: UUID) throws(KeyringError) -> [UInt8] {
        do { return try CipherSuite.open(sealed, key: key, aad: Self.aad(table: table, column: column, row: row, key: keyID)) } catch {
            throw KeyringError(.undecryptable, "\(table).\(column) of \(row) does not open under key \(keyID): \(error)")
        }
    }

    /// Serializes KEK registration, rotation and erase.
    static let lock: Int64 = 0x7261_7070_6b65_7973 // "rappkeys"
}

/// Why a key or ciphertext could not be used.
public struct KeyringError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Code = ErrorCode<KeyringError>
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(self.code): \(self.message)" }
}

extension ErrorCode where Owner == KeyringError {
    /// No KEK file, or the database uses a KEK the file does not hold.
    public static let kekMissing = Self("kek_missing")
    /// The file holds a key under the database's KEK id, but not the same key.
    public static let kekMismatch = Self("kek_mismatch")
    /// A ciphertext does not open: wrong row, wrong key or changed bytes.
    public static let undecryptable = Self("undecryptable")
    /// A typed confirmation did not match.
    public static let notConfirmed = Self("not_confirmed")
}
