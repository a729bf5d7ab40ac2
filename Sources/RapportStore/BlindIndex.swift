import Foundation
import RapportSupport

/// Identity and blocking keys as the database stores them: `field:` followed by a keyed HMAC of the
/// normalized value (a blind index, as in CipherSweet), so no phone, email or name key sits in an index
/// in plaintext, while equal values still meet. One HMAC key per field, derived with HKDF from the
/// index key (a data key in the keyring); 128 bits kept, so two people never share a value and every
/// identity decision is the one the plaintext keys made.
///
/// `plain` (encryption off) stores the keys as they are. A database is written under one of the two:
/// switching means rebuilding the indexes.
public struct BlindIndex: Sendable, Equatable {
    public static let plain = BlindIndex(fieldKeys: nil, digest: .sha256, version: 0)
    /// Bytes of HMAC kept: 128 bits, so collisions never merge two people (see the note above).
    static let kept = 16

    private let fieldKeys: [String: [UInt8]]?
    /// The same keys made ready for HMAC (see ``HMACKey``).
    private let macs: [String: HMACKey]
    private let root: [UInt8]
    public let digest: Digest
    /// The `index_keys` version this index writes (0 for plain).
    public let version: Int

    private init(fieldKeys: [String: [UInt8]]?, root: [UInt8] = [], digest: Digest, version: Int) {
        self.fieldKeys = fieldKeys
        self.macs = (fieldKeys ?? [:]).mapValues { HMACKey(digest, key: $0) }
        self.root = root
        self.digest = digest
        self.version = version
    }

    /// Every field prefix the stores write: identity keys (`IdentityKey`) and the matcher's blocking keys.
    static let fields = ["phone", "email", "p", "e", "el", "id", "n", "nc", "sc", "ss", "b", "ln", "lg", "lp"]

    public init(key: [UInt8], digest: Digest, version: Int) {
        var keys: [String: [UInt8]] = [:]
        for f in Self.fields { keys[f] = Self.derive(key, digest: digest, field: f) }
        self.init(fieldKeys: keys, root: key, digest: digest, version: version)
    }

    static func derive(_ root: [UInt8], digest: Digest, field: String) -> [UInt8] {
        digest.hkdf(key: root, info: Array("rapport blind index|\(field)".utf8), length: 32)
    }

    public var isPlain: Bool { self.fieldKeys == nil }

    /// The stored form of `key` (`field:value`).
    public func callAsFunction(_ key: String) -> String {
        // On UTF-8 bytes: finding the colon among Characters (grapheme breaking) cost more than the HMAC.
        let utf8 = Array(key.utf8)
        guard let keys = self.fieldKeys, let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return key }
        let field = String(decoding: utf8[..<colon], as: UTF8.self)
        let value = Array(utf8[(colon + 1)...])
        let mac = self.macs[field]?.mac(value)
            ?? self.digest.hmac(key: keys[field] ?? Self.derive(self.root, digest: self.digest, field: field), message: value)
        return field + ":" + Hex.encode(Array(mac.prefix(Self.kept)))
    }

    public func callAsFunction(_ keys: some Sequence<String>) -> [String] { keys.map { self($0) } }

    /// The stored forms of `keys` with the key each came from, to read query results back.
    public func map(_ keys: some Sequence<String>) -> [String: String] {
        Dictionary(keys.map { (self($0), $0) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (a: BlindIndex, b: BlindIndex) -> Bool { a.version == b.version && a.fieldKeys == b.fieldKeys }
}
