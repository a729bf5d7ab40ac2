import Foundation
@testable import RapportSupport
import Testing

@Suite("Cipher suites, digests and SM2")
struct CipherSuiteTests {
    @Test("SM3 and HKDF known answers (GB/T 32905 example, RFC 5869 case 1)")
    func knownAnswers() {
        #expect(Hex.encode(Digest.sm3.hash(Array("abc".utf8))) == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        let okm = Digest.sha256.hkdf(key: [UInt8](repeating: 0x0b, count: 22), salt: Array(0...12), info: Array(0xf0...0xf9), length: 42)
        #expect(Hex.encode(okm) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    @Test("SM4 is the GB/T 32907 cipher: its first CTR block is the standard's example ciphertext")
    func sm4KnownAnswer() {
        let key = Hex.decode("0123456789abcdeffedcba9876543210")!
        let block = CipherSuite.sm4ctr([UInt8](repeating: 0, count: 16), key: key, iv: key)
        #expect(Hex.encode(block) == "681edf34d206965e86b3e94f536e4246")
    }

    @Test("each suite round-trips, and names itself in its first byte", arguments: CipherSuite.allCases)
    func roundTrip(suite: CipherSuite) throws {
        let key = RandomBytes.make(32)
        let plain = Array("张伟 13800138000 zw@example.cn".utf8)
        let aad = Array("leads|name|1b4e28ba|kek-1".utf8)
        let sealed = suite.seal(plain, key: key, aad: aad)
        #expect(CipherSuite.of(sealed) == suite)
        #expect(try CipherSuite.open(sealed, key: key, aad: aad) == plain)
        #expect(try CipherSuite.open(suite.seal([], key: key, aad: aad), key: key, aad: aad) == [])
        // Two seals of one value differ (fresh nonce).
        #expect(suite.seal(plain, key: key, aad: aad) != sealed)
    }

    @Test("a changed byte, another row's associated data or another key fails", arguments: CipherSuite.allCases)
    func tamper(suite: CipherSuite) {
        let key = RandomBytes.make(32)
        let aad = Array("inbound_ledger|sealed|site-a/m-1".utf8)
        let sealed = suite.seal(Array("13800138000".utf8), key: key, aad: aad)
        for i in [1, sealed.count / 2, sealed.count - 1] {
            var bad = sealed
            bad[i] ^= 0x01
            #expect(throws: CryptoError.self) { try CipherSuite.open(bad, key: key, aad: aad) }
        }
        #expect(throws: CryptoError.self) { try CipherSuite.open(sealed, key: key, aad: Array("inbound_ledger|sealed|site-a/m-2".utf8)) }
        #expect(throws: CryptoError.self) { try CipherSuite.open(sealed, key: RandomBytes.make(32), aad: aad) }
        #expect(throws: CryptoError.self) { try CipherSuite.open([9] + sealed.dropFirst(), key: key, aad: aad) }
    }

    @Test("SM2 with SM3 signs and verifies; another message or key does not verify; keys survive PEM and DER")
    func sm2() throws {
        let key = SM2.PrivateKey()
        let message = Array("seq=42 hash=abc".utf8)
        let signature = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("seq=43 hash=abc".utf8)))
        #expect(!SM2.PrivateKey().publicKey.isValidSignature(signature, for: message))
        let reloaded = try SM2.PrivateKey(pem: key.pem)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(try SM2.PublicKey(der: key.publicKey.der).isValidSignature(reloaded.signature(for: message), for: message))
        #expect(throws: CryptoError.self) { try SM2.PublicKey(der: [1, 2, 3]) }
    }

    @Test func aReadyHMACKeyGivesTheOneShotHMACAndRFC4231() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        let key = Array("Jefe".utf8), message = Array("what do ya want for nothing?".utf8)
        #expect(Hex.encode(HMACKey(.sha256, key: key).mac(message)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        for digest in Digest.allCases {
            let ready = HMACKey(digest, key: Array(repeating: 9, count: 32))
            for m in ["", "phone:+8613812345678", String(repeating: "长", count: 100)] {
                #expect(ready.mac(Array(m.utf8)) == digest.hmac(key: Array(repeating: 9, count: 32), message: Array(m.utf8)))
            }
        }
    }
}
