import Foundation
import RapportCore
import RapportDecoding
import RapportSupport
import Testing

/// Who a message is from, before any decoder reads it: the broker-validated user_id for registered
/// sources, the older rule for the rest.
struct SourcePolicyTests {
    static let key = Ed25519.PrivateKey()
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let policy = SourcePolicy(
        sources: [RegisteredSource(name: "site-a", mustSign: false), RegisteredSource(name: "site-s", mustSign: true)],
        keys: [SigningKey(keyID: "k1", source: "site-s", publicKey: Self.key.publicKey, validFrom: .distantPast)])

    static func envelope(_ routingKey: String, user: String? = nil, appID: String? = nil, body: String = #"{"phone":"13800138000"}"#) -> InboundEnvelope {
        var e = InboundEnvelope(exchange: "rapport.inbound", routingKey: routingKey, messageID: "m-1", appID: appID,
                                contentType: "application/json", body: Array(body.utf8))
        e.userID = user
        return e
    }

    static func code(_ r: Result<MessageProvenance?, InboundRejection>) -> String? {
        if case .failure(let e) = r { return e.code.rawValue }
        return nil
    }

    @Test func anUnregisteredSourceKeepsTheOlderRule() throws {
        var e = Self.envelope("inbound.webform.site-x", appID: "site-x")
        let r = Self.policy.admit(&e, now: Self.now)
        #expect(try r.get() == nil)
        #expect(e.authenticatedSource == nil)
    }

    @Test func aRegisteredSourceIsItsValidatedUserIDWhateverAppIDSays() throws {
        var e = Self.envelope("inbound.webform.site-a", user: "site-a", appID: "someone-else")
        let p = try #require(try Self.policy.admit(&e, now: Self.now).get())
        #expect(e.authenticatedSource == "site-a")
        #expect(p.bodySHA256 == SHA256.hex(e.body) && p.keyID == nil)
        let decoded = try WebFormDecoder(maxBodyBytes: 65_536).decode(e).get()
        #expect(decoded.source == "site-a")
    }

    @Test func claimingARegisteredSourceWithoutItsLoginIsRefused() {
        var byAppID = Self.envelope("inbound.webform.site-x", appID: "site-a")
        #expect(Self.code(Self.policy.admit(&byAppID, now: Self.now)) == "unauthenticated_source")
        var byRoutingKey = Self.envelope("inbound.webform.site-a")
        #expect(Self.code(Self.policy.admit(&byRoutingKey, now: Self.now)) == "unauthenticated_source")
        var otherUser = Self.envelope("inbound.webform.site-a", user: "guest")
        #expect(Self.code(Self.policy.admit(&otherUser, now: Self.now)) == "unauthenticated_source")
        // Its own login, another source's routing key (what a shovel could forward).
        var crossed = Self.envelope("inbound.webform.site-s", user: "site-a")
        #expect(Self.code(Self.policy.admit(&crossed, now: Self.now)) == "unauthenticated_source")
    }

    @Test func aMustSignSourceIsVerifiedAndItsSignatureKept() throws {
        var e = Self.envelope("inbound.webform.site-s", user: "site-s")
        #expect(Self.code(Self.policy.admit(&e, now: Self.now)) == "unsigned")
        let millis = Int64(Self.now.timeIntervalSince1970 * 1000)
        let signed = MessageSignature.Signed(keyID: "k1", source: "site-s", exchange: e.exchange, routingKey: e.routingKey, messageID: "m-1",
                                             signedAtMillis: millis, contentType: "application/json", body: e.body)
        e.securityHeaders = [MessageSignature.signatureHeader: try #require(MessageSignature.sign(signed, with: Self.key)),
                             MessageSignature.keyIDHeader: "k1", MessageSignature.signedAtHeader: String(millis)]
        let p = try #require(try Self.policy.admit(&e, now: Self.now).get())
        #expect(p.keyID == "k1" && p.signedAtMillis == millis && p.signature?.hasPrefix("ed25519:") == true)
        e.body = Array(#"{"phone":"13900139000"}"#.utf8)
        #expect(Self.code(Self.policy.admit(&e, now: Self.now)) == "bad_signature")
    }
}
