import Foundation

import RapportSupport
import Testing

@Suite("SHA256")
struct SHA256Tests {
    @Test(
        "FIPS 180-4 / NIST known vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
            ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
        ])
    func knownVectors(message: String, expected: String) {
        #expect(SHA256.hex(message) == expected)
        #expect(SHA256.hex(Array(message.utf8)) == expected)
        #expect(SHA256.hash(Array(message.utf8)).count == 32)
    }

    @Test func oneMillionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(message) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("Padding boundaries agree with an incremental definition", arguments: [55, 56, 57, 63, 64, 65, 119, 120, 128])
    func paddingBoundaries(length: Int) {
        // Known digests of `length` zero bytes are not memorable, so check determinism and distinctness instead.
        let zeros = [UInt8](repeating: 0, count: length)
        let digest = SHA256.hash(zeros)
        #expect(digest == SHA256.hash(zeros))
        #expect(digest != SHA256.hash(zeros + [0]))
        #expect(SHA256.hex(zeros).count == 64)
    }

    @Test func hashesUTF8OfStrings() {
        #expect(SHA256.hex("中文") == SHA256.hex(Array("中文".utf8)))
    }
}

@Suite("StableHash")
struct StableHashTests {
    @Test(
        "FNV-1a 64 known vectors",
        arguments: [
            ("", 0xcbf2_9ce4_8422_2325 as UInt64),
            ("a", 0xaf63_dc4c_8601_ec8c),
            ("b", 0xaf63_df4c_8601_f1a5),
            ("foobar", 0x8594_4171_f739_67e8),
        ])
    func knownVectors(input: String, expected: UInt64) {
        #expect(StableHash.fnv1a64(input) == Int64(bitPattern: expected))
    }

    @Test func isStableAndUsesUTF8() {
        #expect(StableHash.fnv1a64("lead:+8613800138000") == StableHash.fnv1a64("lead:+8613800138000"))
        #expect(StableHash.fnv1a64("a") != StableHash.fnv1a64("A"))
        // Precomposed and decomposed "é" are equal Swift strings but different UTF-8: hash is of the bytes.
        #expect(StableHash.fnv1a64("\u{E9}") != StableHash.fnv1a64("e\u{301}"))
    }

    @Test func unsignedAndHexFormsAgree() {
        #expect(StableHash.fnv1a("foobar") == 0x8594_4171_f739_67e8)
        #expect(StableHash.fnv1aHex("a") == "af63dc4c8601ec8c")
        #expect(StableHash.fnv1aHex("").count == 16)
    }

    @Test func bitPatternCanBeNegative() {
        // 0xcbf29ce484222325 has the top bit set, so the empty string maps to a negative bigint.
        #expect(StableHash.fnv1a64("") < 0)
    }
}

@Suite struct SHA256StreamingTests {
    @Test(arguments: [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000])
    func chunkedEqualsOneShot(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for chunk in [1, 3, 64, 100] {
            var h = SHA256.Hasher()
            var i = 0
            while i < bytes.count {
                h.update(bytes[i..<min(i + chunk, bytes.count)])
                i += chunk
            }
            #expect(h.finalize() == SHA256.hash(bytes), "length \(length) chunk \(chunk)")
        }
    }
}

/// libcrypto's HMAC and Ed25519 behind the wrapper, against published vectors.
@Suite("Crypto")
struct CryptoTests {
    @Test func hmacSHA256MatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(HMACSHA256.equal(mac, mac))
        #expect(!HMACSHA256.equal(mac, Array(mac.dropLast()) + [0]))
    }

    @Test func ed25519MatchesRFC8032() throws {
        // RFC 8032 §7.1, test 2: a one-byte message.
        let key = try Ed25519.PrivateKey(rawRepresentation: Hex.decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")!)
        #expect(Hex.encode(key.publicKey.rawRepresentation) == "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
        let sig = key.signature(for: [0x72])
        #expect(Hex.encode(sig) == "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
        #expect(key.publicKey.isValidSignature(sig, for: [0x72]))
        #expect(!key.publicKey.isValidSignature(sig, for: [0x73]))
        var forged = sig
        forged[0] ^= 1
        #expect(!key.publicKey.isValidSignature(forged, for: [0x72]))
        #expect(!Ed25519.PrivateKey().publicKey.isValidSignature(sig, for: [0x72]))
        #expect(throws: CryptoError.self) { try Ed25519.PublicKey(rawRepresentation: [1, 2, 3]) }
    }

    @Test func hexRoundTrips() {
        #expect(Hex.decode("00ffA0") == [0, 255, 160])
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.encode([0, 255, 160]) == "00ffa0")
    }
}
