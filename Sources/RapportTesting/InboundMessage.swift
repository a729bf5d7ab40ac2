import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// A message ready to publish to `rapport.inbound`.
public struct InboundMessage: Sendable {
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties

    public init(routingKey: String, body: [UInt8], properties: AMQPProperties) {
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
    }
}

extension InboundMessage {
    /// The message published as broker user `source` (user_id set, app_id too) and signed with `key`
    /// under `keyID` at `signedAt`, as an upstream following the README does. `signedRoutingKey` and
    /// `signedBody` sign something other than what is sent (tests of tampering).
    public func signed(as source: String, key: Ed25519.PrivateKey, keyID: String, signedAt: Date = Date(),
                       signedRoutingKey: String? = nil, signedBody: [UInt8]? = nil) -> InboundMessage {
        self.signed(as: source, key: .ed25519(key), keyID: keyID, signedAt: signedAt, signedRoutingKey: signedRoutingKey, signedBody: signedBody)
    }

    public func signed(as source: String, key: Signer, keyID: String, signedAt: Date = Date(),
                       signedRoutingKey: String? = nil, signedBody: [UInt8]? = nil) -> InboundMessage {
        var m = self.published(as: source)
        let millis = Int64((signedAt.timeIntervalSince1970 * 1000).rounded())
        let signed = MessageSignature.Signed(
            keyID: keyID, source: source, exchange: "rapport.inbound", routingKey: signedRoutingKey ?? m.routingKey,
            messageID: m.properties.messageID ?? "", signedAtMillis: millis, contentType: m.properties.contentType ?? "",
            body: signedBody ?? m.body)
        m.properties.headers[MessageSignature.signatureHeader] = .string(MessageSignature.sign(signed, with: key) ?? "")
        m.properties.headers[MessageSignature.keyIDHeader] = .string(keyID)
        m.properties.headers[MessageSignature.signedAtHeader] = .int(millis)
        return m
    }

    /// The message with user_id (and app_id) set to `source`, unsigned.
    public func published(as source: String) -> InboundMessage {
        var m = self
        m.properties.userID = source
        m.properties.appID = source
        return m
    }
}
