import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Why a registry change was refused.
public struct SourceRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Code = ErrorCode<SourceRegistryError>

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}

/// The registry of upstream sources and their Ed25519 public keys (`rapport source add|rotate|revoke|list`).
///
/// Keys are never deleted: a stored message names its key id, and `rapport ledger verify` needs the key
/// years later. A rotation keeps the old key valid for an overlap (messages already signed and queued),
/// a revocation ends it at once.
public struct SourceRegistry: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// One source with its keys, as `list` shows it.
    public struct Entry: Sendable {
        public var source: RegisteredSource
        public var keys: [SigningKey]
        public var note: String?
    }

    /// Registers `name` (or changes whether it must sign), and adds `publicKey` when given.
    ///
    /// - Returns: The new key's id, when a key was given.
    @discardableResult
    public func add(_ name: String, mustSign: Bool, note: String? = nil, publicKey: Ed25519.PublicKey, actor: String = "admin",
                    now: Date = Date()) throws -> String? {
        try self.add(name, mustSign: mustSign, note: note, publicKey: .ed25519(publicKey), actor: actor, now: now)
    }

    @discardableResult
    public func add(_ name: String, mustSign: Bool, note: String? = nil, publicKey: Verifier?, actor: String = "admin",
                    now: Date = Date()) throws -> String? {
        guard RegisteredSource.isValidName(name) else {
            throw SourceRegistryError(.invalid, "a source name is letters, digits, '-' and '_' (it is a broker user and the end of a routing key): \(name)")
        }
        return try self.db.transaction {
            try self.db.query(
                """
                insert into sources (name, must_sign, note) values ($1, $2, $3)
                on conflict (name) do update set must_sign = excluded.must_sign, note = coalesce(excluded.note, sources.note)
                """, [name, mustSign, note])
            let keyID = try publicKey.map { try self.insertKey(source: name, publicKey: $0, now: now) }
            try AuditLog(db: self.db).append(actor: actor, action: "source.add", targets: [name] + (keyID.map { [$0] } ?? []),
                                             detail: "must_sign=\(mustSign)", now: now)
            return keyID
        }
    }

    /// Adds `publicKey` as the source's current key; its other live keys retire after `overlap`.
    ///
    /// - Returns: The new key's id.
    public func rotate(_ name: String, publicKey: Ed25519.PublicKey, overlap: TimeInterval, actor: String = "admin", now: Date = Date()) throws -> String {
        try self.rotate(name, publicKey: .ed25519(publicKey), overlap: overlap, actor: actor, now: now)
    }

    public func rotate(_ name: String, publicKey: Verifier, overlap: TimeInterval, actor: String = "admin", now: Date = Date()) throws -> String {
        try self.db.transaction {
            guard try !self.db.query("select 1 from sources where name = $1 for update", [name]).isEmpty else {
                throw SourceRegistryError(.unknownSource, "no source \(name) is registered (rapport source add \(name))")
            }
            try self.db.query(
                """
                update signing_keys set retires_at = $2::timestamptz
                where source = $1 and revoked_at is null and (retires_at is null or retires_at > $2::timestamptz)
                """, [name, ISO8601.string(now.addingTimeInterval(overlap))])
            let keyID = try self.insertKey(source: name, publicKey: publicKey, now: now)
            try AuditLog(db: self.db).append(actor: actor, action: "source.rotate", targets: [name, keyID], detail: "overlap=\(Int(overlap))s", now: now)
            return keyID
        }
    }

    /// Revokes one key at once.
    public func revoke(keyID: String, actor: String = "admin", now: Date = Date()) throws {
        try self.db.transaction {
            let rows = try self.db.query("update signing_keys set revoked_at = coalesce(revoked_at, $2::timestamptz) where key_id = $1 returning source",
                                         [keyID, ISO8601.string(now)])
            guard let source: String = try rows.first?.decode("source") else { throw SourceRegistryError(.unknownKey, "no key \(keyID) is registered") }
            try AuditLog(db: self.db).append(actor: actor, action: "source.revoke", targets: [source, keyID], now: now)
        }
    }

    /// Every source with all its keys, newest key first.
    public func list() throws -> [Entry] {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        for row in try self.db.query("select name, must_sign, note from sources order by name") {
            let name: String = try row.decode("name")
            entries[name] = Entry(source: .init(name: name, mustSign: try row.decode("must_sign")), keys: [], note: row["note"])
            order.append(name)
        }
        for key in try self.keys() { entries[key.source]?.keys.append(key) }
        return order.map { entries[$0]! }
    }

    /// What ingest checks messages against: every source and every key.
    public func snapshot() throws -> (sources: [RegisteredSource], keys: [SigningKey]) {
        let sources = try self.db.query("select name, must_sign from sources").map {
            RegisteredSource(name: try $0.decode("name"), mustSign: try $0.decode("must_sign"))
        }
        return (sources, sources.isEmpty ? [] : try self.keys())
    }

    /// One key by id, revoked or not (for checking a stored message).
    public func key(_ keyID: String) throws -> SigningKey? {
        try self.keys(where: "key_id = $1", [keyID]).first
    }

    private func keys(where condition: String = "true", _ params: [(any PGEncodable)?] = []) throws -> [SigningKey] {
        try self.db.query(
            """
            select key_id, source, algorithm, encode(public_key, 'hex') as public_key, valid_from, retires_at, revoked_at
            from signing_keys where \(condition) order by valid_from desc, key_id
            """, params).map { row in
            guard let raw = Hex.decode(try row.decode("public_key")),
                  let algorithm = Signer.Algorithm(rawValue: try row.decode("algorithm")) else {
                throw SourceRegistryError(.invalid, "stored key is not hex of a known algorithm")
            }
            return SigningKey(keyID: try row.decode("key_id"), source: try row.decode("source"),
                              publicKey: try Verifier(algorithm: algorithm, bytes: raw), validFrom: try row.decode("valid_from"),
                              retiresAt: try row.decodeIfPresent("retires_at"), revokedAt: try row.decodeIfPresent("revoked_at"))
        }
    }

    /// A stored message's signature, checked again (`rapport ledger verify`): non-repudiation after the fact.
    public struct LedgerCheck: Sendable {
        public var source: String
        public var messageID: String
        public var keyID: String?
        public var signedAt: Date?
        /// The signature verifies over what the ledger row holds.
        public var valid: Bool
        /// Whether a body given to check hashes to what was signed; `nil` when none was given.
        public var bodyMatches: Bool?
        /// `active`, `retired`, `revoked` (now, which does not undo what was signed before) or `unknown`.
        public var keyStatus: String
        public var reason: String
    }

    /// Checks the signature stored with ledger row `(source, messageID)` (any source when `nil`), and
    /// that `body`, when given, is what was signed.
    public func verifyLedger(source: String?, messageID: String, body: [UInt8]? = nil, now: Date = Date()) throws -> LedgerCheck? {
        let rows = try self.db.query(
            """
            select source, message_id, body_sha256, exchange, routing_key, content_type, key_id, signature, signed_at_ms
            from inbound_ledger where message_id = $1 and ($2::text is null or source = $2) order by source limit 2
            """, [messageID, source])
        guard let row = rows.first else { return nil }
        guard rows.count == 1 else {
            throw SourceRegistryError(.invalid, "message id \(messageID) is in the ledger for more than one source: name one with --source")
        }
        let src: String = try row.decode("source")
        var check = LedgerCheck(source: src, messageID: messageID, keyID: row["key_id"], signedAt: nil, valid: false, bodyMatches: nil,
                                keyStatus: "unknown", reason: "")
        guard let keyID = row["key_id"], let signature = row["signature"], let millis: Int64 = try row.decodeIfPresent("signed_at_ms"),
              let hash = row["body_sha256"] else {
            check.reason = "the message was not signed (its source did not have to sign when it arrived)"
            return check
        }
        check.signedAt = Date(timeIntervalSince1970: Double(millis) / 1000)
        if let body { check.bodyMatches = SHA256.hex(body) == hash }
        guard let key = try self.key(keyID) else {
            check.reason = "key \(keyID) is not in the registry"
            return check
        }
        check.keyStatus = key.revokedAt.map { $0 <= now } == true ? "revoked" : key.retiresAt.map { $0 <= now } == true ? "retired" : "active"
        let signed = MessageSignature.Signed(keyID: keyID, source: src, exchange: row["exchange"] ?? "", routingKey: row["routing_key"] ?? "",
                                             messageID: messageID, signedAtMillis: millis, contentType: row["content_type"] ?? "",
                                             bodySHA256: hash)
        if let canonical = signed.canonical(key.publicKey.algorithm), key.publicKey.isValid(signature, for: canonical) {
            check.valid = true
            check.reason = "signed by \(src) with key \(keyID)"
        } else {
            check.reason = "the stored signature does not verify: the ledger row was changed after it was written"
        }
        return check
    }

    /// Key ids are `<source>-<yyyymmdd>-<first 8 hex of the key's SHA-256>`: readable in a header, unique per key.
    public static func keyID(source: String, publicKey: Verifier, now: Date) -> String {
        let day = String(ISO8601.string(now).prefix(10).filter(\.isNumber))
        return "\(source)-\(day)-\(SHA256.hex(publicKey.bytes).prefix(8))"
    }

    public static func keyID(source: String, publicKey: Ed25519.PublicKey, now: Date) -> String {
        Self.keyID(source: source, publicKey: .ed25519(publicKey), now: now)
    }

    private func insertKey(source: String, publicKey: Verifier, now: Date) throws -> String {
        let keyID = Self.keyID(source: source, publicKey: publicKey, now: now)
        try self.db.query(
            """
            insert into signing_keys (key_id, source, algorithm, public_key, valid_from)
            values ($1, $2, $3, decode($4, 'hex'), $5::timestamptz)
            on conflict (key_id) do nothing
            """, [keyID, source, publicKey.algorithm.rawValue, Hex.encode(publicKey.bytes), ISO8601.string(now)])
        return keyID
    }
}

extension ErrorCode where Owner == SourceRegistryError {
    public static let unknownSource = Self("unknown_source")
    public static let unknownKey = Self("unknown_key")
    public static let invalid = Self("invalid")
}
