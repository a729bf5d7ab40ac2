import Foundation

/// A key-encryption key (KEK): wraps the per-person data keys. It lives in a file outside the database and
/// the repository (mode 0600), one line per key, `<id> <suite> <64 hex digits>`; during a rotation the file
/// holds the old key and the new one.
public struct KeyEncryptionKey: Sendable, Hashable {
    public let id: String
    public let suite: CipherSuite
    let bytes: [UInt8]

    public init(id: String, suite: CipherSuite, bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == CipherSuite.keyLength else { throw CryptoError("a KEK is \(CipherSuite.keyLength) bytes") }
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw CryptoError("a KEK id is letters, digits, - and _")
        }
        self.id = id
        self.suite = suite
        self.bytes = bytes
    }

    /// A new key named after the day and a random suffix.
    public static func generate(suite: CipherSuite, now: Date = Date()) -> KeyEncryptionKey {
        let day = ISO8601.string(now).prefix(10).replacingOccurrences(of: "-", with: "")
        return try! KeyEncryptionKey(id: "kek-\(day)-\(Hex.encode(RandomBytes.make(3)))", suite: suite, bytes: RandomBytes.make(32))
    }

    /// The value the database keeps to recognise this key (an HMAC of its id: it reveals nothing of the key).
    public var check: [UInt8] { self.suite.digest.hmac(key: self.bytes, message: Array("rapport kek check \(self.id)".utf8)) }

    /// `dataKey` wrapped for the key store, bound to the key's id.
    public func wrap(_ dataKey: [UInt8], keyID: UUID) -> [UInt8] {
        self.suite.seal(dataKey, key: self.bytes, aad: Self.aad(keyID, kek: self.id))
    }

    public func unwrap(_ wrapped: [UInt8], keyID: UUID) throws(CryptoError) -> [UInt8] {
        try CipherSuite.open(wrapped, key: self.bytes, aad: Self.aad(keyID, kek: self.id))
    }

    private static func aad(_ keyID: UUID, kek: String) -> [UInt8] { Array("data_keys|wrapped|\(keyID.uuidString.lowercased())|\(kek)".utf8) }

    /// The file's line for this key.
    public var line: String { "\(self.id) \(self.suite.name) \(Hex.encode(self.bytes))" }

    /// The keys in `path`. A file others may read is refused: a KEK readable by the group is a KEK leaked.
    public static func load(path: String) throws(CryptoError) -> [KeyEncryptionKey] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let data = FileManager.default.contents(atPath: path) else {
            throw CryptoError("no KEK file at \(path) (create one with `rapport keys init`)")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw CryptoError("\(path) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        var keys: [KeyEncryptionKey] = []
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 3, let suite = CipherSuite(name: parts[1]), let bytes = Hex.decode(parts[2]) else {
                throw CryptoError("\(path):\(n + 1): expected `<id> <suite> <64 hex digits>`")
            }
            do { keys.append(try KeyEncryptionKey(id: parts[0], suite: suite, bytes: bytes)) } catch { throw CryptoError("\(path):\(n + 1): \(error)") }
        }
        guard !keys.isEmpty else { throw CryptoError("\(path) holds no key") }
        return keys
    }

    /// Writes `keys` to `path` (mode 0600), replacing it atomically.
    public static func save(_ keys: [KeyEncryptionKey], path: String) throws(CryptoError) {
        let text = "# Rapport key-encryption keys: keep this file off the database host's backups and never commit it.\n"
            + keys.map(\.line).joined(separator: "\n") + "\n"
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CryptoError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw CryptoError("cannot replace \(path)") }
    }
}
