import CLibCrypto
import Foundation

/// A named hash function for digests, HMAC and HKDF: SHA-256 (the default suite) or SM3 (GB/T 32905, the
/// 国密 suite). One libcrypto call each; nothing is computed here.
public enum Digest: String, Sendable, CaseIterable {
    case sha256
    case sm3

    var md: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sm3: EVP_sm3()
        }
    }

    /// The 32-byte digest of `bytes`.
    public func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &out, &length, self.md, nil) }
        precondition(ok == 1, "EVP_Digest(\(self.rawValue)) failed")
        return Array(out.prefix(Int(length)))
    }

    /// HMAC of `message` under `key` with this digest.
    public func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HMAC(self.md, k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &out, &length)
            }
        }
        precondition(ok != nil, "HMAC(\(self.rawValue)) failed")
        return Array(out.prefix(Int(length)))
    }

    /// HKDF (RFC 5869) with this digest: `length` bytes of key material from `key`, bound to `info`.
    public func hkdf(key: [UInt8], salt: [UInt8] = [], info: [UInt8], length: Int) -> [UInt8] {
        let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil)!
        defer { EVP_PKEY_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: length)
        var outLength = length
        let ok = EVP_PKEY_derive_init(ctx) == 1
            && EVP_PKEY_CTX_set_hkdf_md(ctx, self.md) == 1
            && salt.withUnsafeBufferPointer { EVP_PKEY_CTX_set1_hkdf_salt(ctx, $0.baseAddress, Int32($0.count)) } == 1
            && key.withUnsafeBufferPointer { EVP_PKEY_CTX_set1_hkdf_key(ctx, $0.baseAddress, Int32($0.count)) } == 1
            && info.withUnsafeBufferPointer { EVP_PKEY_CTX_add1_hkdf_info(ctx, $0.baseAddress, Int32($0.count)) } == 1
            && EVP_PKEY_derive(ctx, &out, &outLength) == 1
        precondition(ok && outLength == length, "HKDF(\(self.rawValue)) failed")
        return out
    }
}

/// An HMAC key made ready once, for many short messages (blind indexes): OpenSSL 3's one-shot `HMAC()`
/// looks the algorithm up on every call (~5 µs); here each MAC copies the keyed context instead.
public final class HMACKey: @unchecked Sendable {
    // Only ever copied (EVP_MAC_CTX_dup reads it), never updated, so threads may share it.
    private let keyed: OpaquePointer

    public init(_ digest: Digest, key: [UInt8]) {
        let mac = EVP_MAC_fetch(nil, "HMAC", nil)!
        defer { EVP_MAC_free(mac) }
        self.keyed = EVP_MAC_CTX_new(mac)!
        let name = strdup(digest == .sha256 ? "SHA256" : "SM3")!, param = strdup("digest")!
        defer { free(name); free(param) }
        let params = [OSSL_PARAM_construct_utf8_string(param, name, 0), OSSL_PARAM_construct_end()]
        let ok = key.withUnsafeBufferPointer { k in params.withUnsafeBufferPointer { EVP_MAC_init(self.keyed, k.baseAddress, k.count, $0.baseAddress) } }
        precondition(ok == 1, "EVP_MAC_init(HMAC-\(digest.rawValue)) failed")
    }

    deinit { EVP_MAC_CTX_free(self.keyed) }

    public func mac(_ message: [UInt8]) -> [UInt8] {
        let ctx = EVP_MAC_CTX_dup(self.keyed)!
        defer { EVP_MAC_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length = 0
        let ok = message.withUnsafeBufferPointer { EVP_MAC_update(ctx, $0.baseAddress, $0.count) } == 1
            && EVP_MAC_final(ctx, &out, &length, out.count) == 1
        precondition(ok, "HMAC failed")
        return Array(out.prefix(length))
    }
}

/// Random bytes from libcrypto's generator (keys, nonces, ids).
public enum RandomBytes {
    public static func make(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "RAND_bytes failed")
        return out
    }
}
