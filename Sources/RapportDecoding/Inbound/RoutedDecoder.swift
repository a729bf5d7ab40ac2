import Foundation
import RapportCore
import RapportSupport

/// One queue's decoders, chosen per message: the connector named by the message's `type` property, else
/// its `app_id`, else the source in its routing key (`inbound.<channel>.<source>`), else the queue's
/// default. Built from `connectors/routes.json` by ``InboundRoutes``.
public struct RoutedDecoder: InboundDecoder {
    /// Connectors by name.
    public let connectors: [String: any InboundDecoder]
    /// Connectors that could not be loaded, with why (e.g. no shared key configured): their messages are
    /// dead-lettered `unknown_connector` rather than decoded as something else.
    public let unavailable: [String: String]
    /// For messages that name no connector of this queue.
    public let fallback: (any InboundDecoder)?

    public init(connectors: [String: any InboundDecoder], unavailable: [String: String] = [:], fallback: (any InboundDecoder)?) {
        self.connectors = connectors
        self.unavailable = unavailable
        self.fallback = fallback
    }

    public func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection> {
        guard let name = self.connectorName(envelope) else {
            if let fallback = self.fallback { return fallback.decode(envelope) }
            return .failure(InboundRejection(
                code: .unknownConnector,
                reason: "No connector named by the message's type, app_id or routing key (known: \(self.connectors.keys.sorted().joined(separator: ", "))).",
                field: "type"))
        }
        guard let decoder = self.connectors[name] else {
            return .failure(InboundRejection(
                code: .unknownConnector, reason: "The \(name) connector is not configured: \(self.unavailable[name] ?? "").", field: "type"))
        }
        return decoder.decode(envelope)
    }

    /// The first of type, app_id and routing-key source that names a connector of this queue. On the hot
    /// path: a queue without connectors asks nothing, and the routing key is split only when needed.
    private func connectorName(_ envelope: InboundEnvelope) -> String? {
        guard !self.connectors.isEmpty || !self.unavailable.isEmpty else { return nil }
        func known(_ name: String?) -> String? {
            guard let name, self.connectors[name] != nil || self.unavailable[name] != nil else { return nil }
            return name
        }
        return known(envelope.type) ?? known(envelope.appID)
            ?? known(envelope.routingKey.split(separator: ".").dropFirst(2).first.map(String.init))
    }
}
