import Foundation
import CLibCrypto

/// SM2 signatures with SM3 (GB/T 32918, the 国密 suite's signature), through libcrypto. Signatures are
/// DER, as OpenSSL writes them; the distinguishing id is OpenSSL's default.
public enum SM2 {
    public struct PrivateKey: Sendable {
        /// The key as PKCS#8 PEM (what the key file holds).
        public let pem: String
        private let parsed: ParsedKey

        /// A new key from libcrypto's generator.
        public init() {
            let ctx = EVP_PKEY_CTX_new_from_name(nil, "SM2", nil)!
            defer { EVP_PKEY_CTX_free(ctx) }
            var key: OpaquePointer?
            precondition(EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_generate(ctx, &key) == 1 && key != nil, "SM2 key generation failed")
            self.parsed = ParsedKey(key!)
            self.pem = Self.pem(of: key!)
        }

        public init(pem: String) throws(CryptoError) {
            let bytes = Array(pem.utf8)
            let bio = bytes.withUnsafeBufferPointer { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }!
            defer { BIO_free(bio) }
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw CryptoError("not a PEM private key") }
            guard EVP_PKEY_is_a(key, "SM2") == 1 else {
                EVP_PKEY_free(key)
                throw CryptoError("not an SM2 key")
            }
            self.parsed = ParsedKey(key)
            self.pem = pem
        }

        /// The key in `path`; when there is none and `create`, a new key written there with mode 0600.
        public static func load(path: String, create: Bool) throws -> (key: PrivateKey, created: Bool) {
            if let data = FileManager.default.contents(atPath: path) {
                do { return (try PrivateKey(pem: String(decoding: data, as: UTF8.self)), false) } catch { throw CryptoError("\(path): \(error)") }
            }
            guard create else { throw CryptoError("no key file \(path)") }
            let key = PrivateKey()
            guard FileManager.default.createFile(atPath: path, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CryptoError("cannot write \(path)")
            }
            return (key, true)
        }

        public var publicKey: PublicKey {
            let length = i2d_PUBKEY(self.parsed.key, nil)
            var der = [UInt8](repeating: 0, count: Int(length))
            der.withUnsafeMutableBufferPointer { b in
                var p: UnsafeMutablePointer<UInt8>? = b.baseAddress
                precondition(i2d_PUBKEY(self.parsed.key, &p) == length, "i2d_PUBKEY failed")
            }
            return try! PublicKey(der: der)
        }

        /// The DER signature of `message` (SM3 digest with the signer's Z value).
        public func signature(for message: [UInt8]) -> [UInt8] {
            let ctx = EVP_MD_CTX_new()!
            defer { EVP_MD_CTX_free(ctx) }
            precondition(EVP_DigestSignInit(ctx, nil, EVP_sm3(), nil, self.parsed.key) == 1, "EVP_DigestSignInit(sm2) failed")
            var length = 0
            message.withUnsafeBufferPointer { m in _ = EVP_DigestSign(ctx, nil, &length, m.baseAddress, m.count) }
            var signature = [UInt8](repeating: 0, count: length)
            let ok = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, &signature, &length, m.baseAddress, m.count) }
            precondition(ok == 1, "EVP_DigestSign(sm2) failed")
            return Array(signature.prefix(length))
        }

        private static func pem(of key: OpaquePointer) -> String {
            let bio = BIO_new(BIO_s_mem())!
            defer { BIO_free(bio) }
            precondition(PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1, "PEM_write_bio_PrivateKey failed")
            var pointer: UnsafeMutableRawPointer?
            let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
            return String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
        }
    }

    public struct PublicKey: Sendable, Hashable {
        /// SubjectPublicKeyInfo DER.
        public let der: [UInt8]
        private let parsed: ParsedKey

        public init(der: [UInt8]) throws(CryptoError) {
            let key: OpaquePointer? = der.withUnsafeBufferPointer { b in
                var p: UnsafePointer<UInt8>? = b.baseAddress
                return d2i_PUBKEY(nil, &p, b.count)
            }
            guard let key else { throw CryptoError("not a DER public key") }
            guard EVP_PKEY_is_a(key, "SM2") == 1 else {
                EVP_PKEY_free(key)
                throw CryptoError("not an SM2 public key")
            }
            self.der = der
            self.parsed = ParsedKey(key)
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool { a.der == b.der }
        public func hash(into h: inout Hasher) { h.combine(self.der) }

        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            let ctx = EVP_MD_CTX_new()!
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestVerifyInit(ctx, nil, EVP_sm3(), nil, self.parsed.key) == 1 else { return false }
            return signature.withUnsafeBufferPointer { s in
                message.withUnsafeBufferPointer { m in EVP_DigestVerify(ctx, s.baseAddress, s.count, m.baseAddress, m.count) == 1 }
            }
        }
    }
}
