import Foundation
import RapportCore
import RapportSupport

/// Which upstreams are registered, which must sign, and with which keys: the checks a message from a
/// registered source passes before any decoder sees it (issue 12).
///
/// A registered source is authenticated by the broker: its messages carry `user_id`, which RabbitMQ
/// refuses unless it equals the publisher's login, and that `user_id` is then the message's source
/// whatever `app_id` says. A message that claims a registered source (by `app_id` or routing key) without
/// that `user_id` is refused `unauthenticated_source`. Unregistered sources keep the older rule (`app_id`,
/// else the routing key) so internal publishers and development setups work unchanged.
public struct SourcePolicy: Sendable {
    public typealias Source = RegisteredSource

    public var sources: [String: Source]
    public var keys: [String: SigningKey]
    public var verifier: SignatureVerifier

    public init(sources: [Source] = [], keys: [SigningKey] = [], verifier: SignatureVerifier = SignatureVerifier()) {
        self.sources = Dictionary(sources.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.keys = Dictionary(keys.map { ($0.keyID, $0) }, uniquingKeysWith: { a, _ in a })
        self.verifier = verifier
    }

    /// Checks `envelope` and, for a registered source, sets its ``InboundEnvelope/authenticatedSource``.
    ///
    /// - Returns: What the ledger keeps of a registered source's message, `nil` for others; or the refusal.
    public func admit(_ envelope: inout InboundEnvelope, now: Date) -> Result<MessageProvenance?, InboundRejection> {
        guard !self.sources.isEmpty else { return .success(nil) }
        let routingSource = Self.routingSource(envelope.routingKey)
        guard let user = envelope.userID, let source = self.sources[user] else {
            let claimed = envelope.appID.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } ?? routingSource
            for name in [claimed, routingSource] {
                if let name, self.sources[name] != nil {
                    return .failure(InboundRejection(
                        code: .unauthenticatedSource,
                        reason: "Source \(name) is registered: its messages must be published by broker user \(name) with user_id set"
                            + (envelope.userID.map { " (user_id is \(InboundChecks.excerpt($0)))" } ?? " (no user_id)") + ".",
                        field: "user_id"))
                }
            }
            return .success(nil)
        }
        // The broker's topic permissions stop this for direct publishers; checked again for what a shovel
        // or federation link might forward.
        guard routingSource == user else {
            return .failure(InboundRejection(
                code: .unauthenticatedSource,
                reason: "Broker user \(user) published under routing key \(InboundChecks.excerpt(envelope.routingKey)), which names another source.",
                field: "routing_key"))
        }
        envelope.authenticatedSource = user
        let contentType = envelope.contentType ?? ""
        var provenance = MessageProvenance(bodySHA256: SHA256.hex(envelope.body), exchange: envelope.exchange,
                                           routingKey: envelope.routingKey, contentType: contentType)
        // Without a message id there is nothing to sign over; the decoder refuses it as missing_message_id.
        guard source.mustSign, let messageID = envelope.messageID, !messageID.isEmpty else { return .success(provenance) }
        switch self.verifier.verify(source: user, exchange: envelope.exchange, routingKey: envelope.routingKey, messageID: messageID,
                                    contentType: contentType, bodySHA256: provenance.bodySHA256, headers: envelope.securityHeaders, now: now,
                                    key: { self.keys[$0] }) {
        case .failure(let r):
            return .failure(r)
        case .success(let v):
            provenance.keyID = v.keyID
            provenance.signature = v.signature
            provenance.signedAtMillis = v.signedAtMillis
            return .success(provenance)
        }
    }

    /// The `<source…>` part of `inbound.<channel>.<source…>`, or `nil`.
    static func routingSource(_ routingKey: String) -> String? {
        let parts = routingKey.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "inbound", !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }
}
