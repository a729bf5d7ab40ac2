import CLibCrypto

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

/// Random bytes from libcrypto's generator (keys, nonces, ids).
public enum RandomBytes {
    public static func make(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "RAND_bytes failed")
        return out
    }
}
