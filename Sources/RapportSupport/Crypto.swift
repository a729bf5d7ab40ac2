import Foundation
import CLibCrypto

// The project's cryptography: OpenSSL's libcrypto behind a small Swift surface. Nothing here computes a
// primitive itself; each function is one libcrypto call and its error handling.

/// SHA-256, for content fingerprints, idempotency keys and signed-message body digests.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { Digest.sha256.hash(bytes) }

    /// The digest as 64 lowercase hex digits (this hashes its input; it does not hex-encode it).
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(Self.hash(bytes)) }

    /// The digest of `string`'s UTF-8 as lowercase hex.
    public static func hex(_ string: String) -> String { Self.hex(Array(string.utf8)) }

    /// An incremental digest, for files streamed in chunks (imports hash the whole file in bounded memory).
    public struct Hasher: @unchecked Sendable {
        /// libcrypto's digest context; freed with the last copy of the hasher.
        final class Context {
            let pointer: OpaquePointer
            init() {
                self.pointer = EVP_MD_CTX_new()!
                precondition(EVP_DigestInit_ex(self.pointer, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(sha256) failed")
            }
            deinit { EVP_MD_CTX_free(self.pointer) }
        }

        private let context = Context()

        public init() {}

        public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            let done = bytes.withContiguousStorageIfAvailable { b in
                _ = EVP_DigestUpdate(self.context.pointer, b.baseAddress, b.count)
            }
            if done == nil {
                let copy = Array(bytes)
                copy.withUnsafeBytes { _ = EVP_DigestUpdate(self.context.pointer, $0.baseAddress, $0.count) }
            }
        }

        /// The digest; the hasher is spent afterwards.
        public mutating func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            precondition(EVP_DigestFinal_ex(self.context.pointer, &out, &length) == 1, "EVP_DigestFinal_ex failed")
            return Array(out.prefix(Int(length)))
        }

        public mutating func finalizeHex() -> String { Hex.encode(self.finalize()) }
    }
}

/// HMAC-SHA256, for webhook signatures (e.g. Facebook's `X-Hub-Signature-256`).
public enum HMACSHA256 {
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] { Digest.sha256.hmac(key: key, message: message) }

    /// Compares two MACs in constant time (`CRYPTO_memcmp`), so a forger learns nothing from timing.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}

/// Ed25519 signatures (RFC 8032), for signed inbound messages and non-repudiation.
public enum Ed25519 {
    public struct PrivateKey: Sendable, Hashable {
        /// The 32-byte seed.
        public let rawRepresentation: [UInt8]

        /// A new key from libcrypto's random generator.
        public init() {
            var seed = [UInt8](repeating: 0, count: 32)
            precondition(RAND_bytes(&seed, 32) == 1, "RAND_bytes failed")
            self.rawRepresentation = seed
        }

        public init(rawRepresentation: [UInt8]) throws(CryptoError) {
            guard rawRepresentation.count == 32 else { throw CryptoError("an Ed25519 private key is 32 bytes, not \(rawRepresentation.count)") }
            self.rawRepresentation = rawRepresentation
        }

        public var publicKey: PublicKey {
            let key = self.key()
            defer { EVP_PKEY_free(key) }
            var raw = [UInt8](repeating: 0, count: 32)
            var length = 32
            precondition(EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1 && length == 32, "EVP_PKEY_get_raw_public_key failed")
            return PublicKey(checked: raw)
        }

        /// The key in `path` (its 32-byte seed in hex); when there is no such file and `create`, a new key
        /// written there with mode 0600. A file that holds something else is an error, never overwritten.
        public static func load(path: String, create: Bool) throws -> (key: PrivateKey, created: Bool) {
            if let data = FileManager.default.contents(atPath: path) {
                guard let raw = Hex.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw CryptoError("\(path) is not a hex Ed25519 key")
                }
                return (try PrivateKey(rawRepresentation: raw), false)
            }
            guard create else { throw CryptoError("no key file \(path)") }
            let key = PrivateKey()
            guard FileManager.default.createFile(atPath: path, contents: Data((Hex.encode(key.rawRepresentation) + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw CryptoError("cannot write \(path)")
            }
            return (key, true)
        }

        /// The 64-byte signature of `message`.
        public func signature(for message: [UInt8]) -> [UInt8] {
            let key = self.key()
            defer { EVP_PKEY_free(key) }
            let ctx = EVP_MD_CTX_new()!
            defer { EVP_MD_CTX_free(ctx) }
            precondition(EVP_DigestSignInit(ctx, nil, nil, nil, key) == 1, "EVP_DigestSignInit(ed25519) failed")
            var signature = [UInt8](repeating: 0, count: 64)
            var length = 64
            let ok = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, &signature, &length, m.baseAddress, m.count) }
            precondition(ok == 1 && length == 64, "EVP_DigestSign(ed25519) failed")
            return signature
        }

        private func key() -> OpaquePointer {
            self.rawRepresentation.withUnsafeBufferPointer { EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)! }
        }
    }

    public struct PublicKey: Sendable, Hashable {
        /// The 32-byte public key.
        public let rawRepresentation: [UInt8]
        /// libcrypto's parsed key, made once: parsing it again for every message cost as much as a third
        /// of a verification (bench/security).
        private let parsed: ParsedKey

        public init(rawRepresentation: [UInt8]) throws(CryptoError) {
            guard rawRepresentation.count == 32 else { throw CryptoError("an Ed25519 public key is 32 bytes, not \(rawRepresentation.count)") }
            guard let key = rawRepresentation.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }) else {
                throw CryptoError("not an Ed25519 public key")
            }
            self.rawRepresentation = rawRepresentation
            self.parsed = ParsedKey(key)
        }

        init(checked raw: [UInt8]) {
            self.rawRepresentation = raw
            self.parsed = ParsedKey(raw.withUnsafeBufferPointer { EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)! })
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool { a.rawRepresentation == b.rawRepresentation }
        public func hash(into h: inout Hasher) { h.combine(self.rawRepresentation) }

        /// Whether `signature` is this key's signature of `message`.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == 64 else { return false }
            let ctx = EVP_MD_CTX_new()!
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestVerifyInit(ctx, nil, nil, nil, self.parsed.key) == 1 else { return false }
            return signature.withUnsafeBufferPointer { s in
                message.withUnsafeBufferPointer { m in EVP_DigestVerify(ctx, s.baseAddress, 64, m.baseAddress, m.count) == 1 }
            }
        }
    }

}

/// An `EVP_PKEY` freed with its last owner.
/// - Important: `@unchecked Sendable`: libcrypto allows one key in several threads' signatures and
///   verifications at once (each has its own `EVP_MD_CTX`), and the key is never changed after it is made.
final class ParsedKey: @unchecked Sendable {
    let key: OpaquePointer
    init(_ key: OpaquePointer) { self.key = key }
    deinit { EVP_PKEY_free(self.key) }
}

/// A key or input the cryptography wrapper refuses.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Lowercase hex, both ways.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string (either case); `nil` for anything else.
    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
