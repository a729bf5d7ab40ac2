import CLibCrypto

/// The two ways Rapport encrypts: AES-256-GCM (the default) and the 国密 suite, SM4-CTR with an HMAC-SM3
/// tag over the associated data, nonce and ciphertext (encrypt-then-MAC: OpenSSL 3.0 has no SM4-GCM).
///
/// A sealed value begins with its suite's byte, so values of both suites are read side by side while a
/// deployment moves from one to the other. Both take a 32-byte key; the SM4 suite splits it as JWE's
/// AES-CBC-HMAC does (first half the MAC key, second half the cipher key).
public enum CipherSuite: UInt8, Sendable, CaseIterable {
    case aes256gcm = 1
    case sm4ctrHMACSM3 = 2

    public static let keyLength = 32

    /// The name settings use (`cipher_suite`).
    public var name: String {
        switch self {
        case .aes256gcm: "aes-256-gcm"
        case .sm4ctrHMACSM3: "sm4-ctr-hmac-sm3"
        }
    }

    public init?(name: String) {
        guard let s = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = s
    }

    /// The digest that goes with the suite (blind indexes, key derivation, signatures).
    public var digest: Digest {
        switch self {
        case .aes256gcm: .sha256
        case .sm4ctrHMACSM3: .sm3
        }
    }

    private var nonceLength: Int { self == .aes256gcm ? 12 : 16 }
    private var tagLength: Int { self == .aes256gcm ? 16 : 32 }

    /// `plaintext` encrypted and authenticated under `key`, bound to `aad` (which is not stored: whoever
    /// opens must name the same table, column, row and key).
    public func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8]) -> [UInt8] {
        precondition(key.count == Self.keyLength, "a data key is \(Self.keyLength) bytes")
        let nonce = RandomBytes.make(self.nonceLength)
        var out = [self.rawValue] + nonce
        switch self {
        case .aes256gcm:
            let (ct, tag) = Self.gcm(encrypt: true, plaintext, key: key, nonce: nonce, aad: [self.rawValue] + aad, tag: nil)!
            out += ct + tag
        case .sm4ctrHMACSM3:
            out += Self.sm4ctr(plaintext, key: Array(key[16...]), iv: nonce)
            out += Self.sm3tag(macKey: Array(key[..<16]), aad: aad, header: out)
        }
        return out
    }

    /// The plaintext of a sealed value of either suite; an error when the key, the associated data or a
    /// single byte differs.
    public static func open(_ sealed: [UInt8], key: [UInt8], aad: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let first = sealed.first, let suite = CipherSuite(rawValue: first) else {
            throw CryptoError("not a sealed value (unknown suite)")
        }
        guard key.count == Self.keyLength else { throw CryptoError("a data key is \(Self.keyLength) bytes") }
        guard sealed.count >= 1 + suite.nonceLength + suite.tagLength else { throw CryptoError("sealed value too short") }
        let nonce = Array(sealed[1 ..< 1 + suite.nonceLength])
        let body = Array(sealed[(1 + suite.nonceLength) ..< (sealed.count - suite.tagLength)])
        let tag = Array(sealed.suffix(suite.tagLength))
        switch suite {
        case .aes256gcm:
            guard let (plain, _) = Self.gcm(encrypt: false, body, key: key, nonce: nonce, aad: [first] + aad, tag: tag) else {
                throw CryptoError("authentication failed (wrong key, row or a changed byte)")
            }
            return plain
        case .sm4ctrHMACSM3:
            let expected = Self.sm3tag(macKey: Array(key[..<16]), aad: aad, header: Array(sealed.dropLast(suite.tagLength)))
            guard HMACSHA256.equal(expected, tag) else { throw CryptoError("authentication failed (wrong key, row or a changed byte)") }
            return Self.sm4ctr(body, key: Array(key[16...]), iv: nonce)
        }
    }

    /// The suite a sealed value names.
    public static func of(_ sealed: [UInt8]) -> CipherSuite? { sealed.first.flatMap(CipherSuite.init(rawValue:)) }

    private static func sm3tag(macKey: [UInt8], aad: [UInt8], header: [UInt8]) -> [UInt8] {
        // The AAD's length first, so AAD and ciphertext cannot trade bytes.
        var n = UInt64(aad.count).bigEndian
        let length = withUnsafeBytes(of: &n) { Array($0) }
        return Digest.sm3.hmac(key: macKey, message: length + aad + header)
    }

    static func sm4ctr(_ input: [UInt8], key: [UInt8], iv: [UInt8]) -> [UInt8] {
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var n: Int32 = 0, tail: Int32 = 0
        let ok = EVP_EncryptInit_ex(ctx, EVP_sm4_ctr(), nil, key, iv) == 1
            && input.withUnsafeBufferPointer { EVP_EncryptUpdate(ctx, &out, &n, $0.baseAddress, Int32($0.count)) } == 1
            && out.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + Int(n), &tail) } == 1
        precondition(ok, "SM4-CTR failed")
        return Array(out.prefix(Int(n + tail)))
    }

    /// AES-256-GCM one way or the other; `nil` when decryption's tag does not verify.
    private static func gcm(encrypt: Bool, _ input: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8], tag: [UInt8]?)
        -> (out: [UInt8], tag: [UInt8])? {
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var n: Int32 = 0, tail: Int32 = 0, ignored: Int32 = 0
        let e: Int32 = encrypt ? 1 : 0
        guard EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil, e) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
              EVP_CipherInit_ex(ctx, nil, nil, key, nonce, e) == 1,
              aad.withUnsafeBufferPointer({ EVP_CipherUpdate(ctx, nil, &ignored, $0.baseAddress, Int32($0.count)) }) == 1,
              input.withUnsafeBufferPointer({ EVP_CipherUpdate(ctx, &out, &n, $0.baseAddress, Int32($0.count)) }) == 1
        else { preconditionFailure("AES-256-GCM setup failed") }
        if var tag {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { return nil }
        }
        let final = out.withUnsafeMutableBufferPointer { EVP_CipherFinal_ex(ctx, $0.baseAddress! + Int(n), &tail) }
        guard final == 1 else { return nil }
        var outTag = [UInt8](repeating: 0, count: 16)
        if encrypt { precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &outTag) == 1, "GCM tag failed") }
        return (Array(out.prefix(Int(n + tail))), outTag)
    }
}
