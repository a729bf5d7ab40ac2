import Foundation
import RapportSupport
import Testing
@testable import RapportCore

/// Every refusal of a signed message has its test, and the Swift form agrees byte for byte with the
/// Python example signer (ops/examples/sign_message.py): Ed25519 is deterministic.
struct MessageSignatureTests {
    static let seed = Hex.decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")!
    static let body = Array(#"{"name": "张伟", "phone": "13800138000"}"#.utf8)
    static let signedAt: Int64 = 1_764_547_200_000
    static var now: Date { Date(timeIntervalSince1970: Double(Self.signedAt) / 1000 + 30) }

    static func signed(_ body: [UInt8] = Self.body, routingKey: String = "inbound.webform.site-a", messageID: String = "m-1",
                       at: Int64 = Self.signedAt, keyID: String = "site-a-2026") -> MessageSignature.Signed {
        MessageSignature.Signed(keyID: keyID, source: "site-a", exchange: "rapport.inbound", routingKey: routingKey, messageID: messageID,
                                signedAtMillis: at, contentType: "application/json", body: body)
    }

    static func key() throws -> Ed25519.PrivateKey { try Ed25519.PrivateKey(rawRepresentation: Self.seed) }

    static func registry(revokedAt: Date? = nil, retiresAt: Date? = nil) throws -> (String) -> SigningKey? {
        let k = SigningKey(keyID: "site-a-2026", source: "site-a", publicKey: try Self.key().publicKey,
                           validFrom: Date(timeIntervalSince1970: 1_700_000_000), retiresAt: retiresAt, revokedAt: revokedAt)
        let other = SigningKey(keyID: "site-b-2026", source: "site-b", publicKey: Ed25519.PrivateKey().publicKey, validFrom: .distantPast)
        return { id in [k.keyID: k, other.keyID: other][id] }
    }

    /// Verifies what `signed` describes as the message (which may differ from what was signed).
    static func check(headers: [String: String], _ m: MessageSignature.Signed = Self.signed(), now: Date = Self.now,
                      keys: ((String) -> SigningKey?)? = nil) throws -> Result<SignatureVerifier.Verified, InboundRejection> {
        SignatureVerifier().verify(source: m.source, exchange: m.exchange, routingKey: m.routingKey, messageID: m.messageID,
                                   contentType: m.contentType, bodySHA256: m.bodySHA256, headers: headers, now: now, key: try keys ?? Self.registry())
    }

    static func headers(for m: MessageSignature.Signed = Self.signed()) throws -> [String: String] {
        [MessageSignature.signatureHeader: MessageSignature.sign(m, with: try Self.key())!, MessageSignature.keyIDHeader: m.keyID,
         MessageSignature.signedAtHeader: String(m.signedAtMillis)]
    }

    static func code(_ r: Result<SignatureVerifier.Verified, InboundRejection>) -> String? {
        if case .failure(let e) = r { return e.code.rawValue }
        return nil
    }

    @Test func theSwiftFormMatchesThePythonExample() throws {
        // python3 ops/examples/sign_message.py --key-hex 4ccd…a6fb --key-id site-a-2026 --source site-a \
        //   --routing-key inbound.webform.site-a --message-id m-1 --signed-at 1764547200000 --body '{"name": "张伟", "phone": "13800138000"}'
        #expect(try Self.headers()[MessageSignature.signatureHeader]
            == "ed25519:c9QXewl8CHuuhizICbI+c4Sarv9zKKkvvZdLz93sW/OShplCFzyJPcostsXDT8kLQiEzqnlKfx+FfylnZ8BLAQ==")
        let text = String(decoding: Self.signed().canonical!, as: UTF8.self)
        #expect(text.split(separator: "\n").count == 10)
        #expect(text.hasPrefix("rapport-sig-v1\ned25519\nsite-a-2026\nsite-a\nrapport.inbound\ninbound.webform.site-a\nm-1\n1764547200000\napplication/json\n"))
    }

    @Test func aValidSignatureIsAccepted() throws {
        guard case .success(let v) = try Self.check(headers: try Self.headers()) else { Issue.record("must verify"); return }
        #expect(v.keyID == "site-a-2026")
    }

    @Test func everyRefusalHasItsCode() throws {
        let good = try Self.headers()
        var forged = good
        forged[MessageSignature.signatureHeader] = MessageSignature.sign(Self.signed(), with: Ed25519.PrivateKey())
        var garbled = good
        garbled[MessageSignature.signatureHeader] = "rsa:abc"
        var unknown = good
        unknown[MessageSignature.keyIDHeader] = "site-a-1999"
        var othersKey = good
        othersKey[MessageSignature.keyIDHeader] = "site-b-2026"
        let cases: [(String, Result<SignatureVerifier.Verified, InboundRejection>)] = [
            ("unsigned", try Self.check(headers: [:])),
            ("bad_signature", try Self.check(headers: forged)),
            ("bad_signature", try Self.check(headers: garbled)),
            // Changed after signing: the body, the routing key, the message id.
            ("bad_signature", try Self.check(headers: good, Self.signed(Array(#"{"name": "李四"}"#.utf8)))),
            ("bad_signature", try Self.check(headers: good, Self.signed(routingKey: "inbound.webform.site-b"))),
            ("bad_signature", try Self.check(headers: good, Self.signed(messageID: "m-2"))),
            ("unknown_key", try Self.check(headers: unknown)),
            ("unknown_key", try Self.check(headers: othersKey)),
            ("revoked_key", try Self.check(headers: good, keys: try Self.registry(revokedAt: Self.now.addingTimeInterval(-1)))),
            ("revoked_key", try Self.check(headers: good, now: Self.now.addingTimeInterval(3600),
                                           keys: try Self.registry(retiresAt: Self.now.addingTimeInterval(-120)))),
            ("stale", try Self.check(headers: good, now: Self.now.addingTimeInterval(3600))),
            ("stale", try Self.check(headers: good, now: Self.now.addingTimeInterval(-3600))),
        ]
        for (expected, result) in cases {
            #expect(Self.code(result) == expected)
        }
        // A rotated key stays good through its overlap.
        #expect(Self.code(try Self.check(headers: good, keys: try Self.registry(retiresAt: Self.now.addingTimeInterval(60)))) == nil)
    }

    @Test func aLineBreakInAFieldCannotBeSigned() throws {
        #expect(Self.signed(messageID: "m-1\nx").canonical == nil)
        #expect(MessageSignature.sign(Self.signed(messageID: "m-1\nx"), with: try Self.key()) == nil)
    }

    @Test func anSM2KeyVerifiesItsOwnSignaturesAndNoOtherAlgorithms() throws {
        let sm2 = SM2.PrivateKey()
        let k = SigningKey(keyID: "site-a-gm", source: "site-a", publicKey: .sm2(sm2.publicKey), validFrom: .distantPast)
        let keys: (String) -> SigningKey? = { $0 == k.keyID ? k : nil }
        let m = Self.signed(keyID: "site-a-gm")
        let header = try #require(MessageSignature.sign(m, with: .sm2(sm2)))
        #expect(header.hasPrefix("sm2:"))
        // The algorithm is part of what is signed, not only of the header.
        #expect(m.canonical(.sm2) != m.canonical(.ed25519))
        let good = [MessageSignature.signatureHeader: header, MessageSignature.keyIDHeader: m.keyID,
                    MessageSignature.signedAtHeader: String(m.signedAtMillis)]
        guard case .success = try Self.check(headers: good, m, keys: keys) else { Issue.record("an SM2 signature must verify"); return }
        var ed = good
        ed[MessageSignature.signatureHeader] = MessageSignature.sign(m, with: try Self.key())
        #expect(Self.code(try Self.check(headers: ed, m, keys: keys)) == "bad_signature")
        var relabelled = good
        relabelled[MessageSignature.signatureHeader] = "ed25519:" + header.dropFirst(4)
        #expect(Self.code(try Self.check(headers: relabelled, m, keys: keys)) == "bad_signature")
        #expect(Self.code(try Self.check(headers: good, Self.signed(Array("{}".utf8), keyID: "site-a-gm"), keys: keys)) == "bad_signature")
    }
}
