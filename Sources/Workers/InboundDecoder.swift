import Connectors
import Foundation
import RapportCore

/// Turns a delivery into a submission for one inbound queue.
public protocol InboundDecoder: Sendable {
    /// The submission, whose `messageID` is the ledger's idempotency key (for ad platforms, their lead
    /// id: a webhook re-sent with a new message id is still the same lead).
    func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection>
}

extension WebFormDecoder: InboundDecoder {}

/// The `ads` queue: each platform's payload through its mapping, chosen by the message's `type`
/// property, else its `app_id`, else the routing key's source (`inbound.ads.<connector>…`).
public struct AdsDecoder: InboundDecoder {
    public let decoders: [String: MappedDecoder]
    /// Connectors whose mapping could not be loaded, with why (e.g. no shared key configured).
    public let unavailable: [String: String]

    /// Loads `connectors/<name>/mapping.json` for each connector. Google Ads needs its shared key.
    public init(connectorsDirectory: String, googleAdsKey: String?, maxBodyBytes: Int,
                names: [String] = ["google-ads", "facebook-lead-ads"]) {
        var decoders: [String: MappedDecoder] = [:]
        var unavailable: [String: String] = [:]
        for name in names {
            do {
                let mapping = try ChannelMapping(contentsOfFile: "\(connectorsDirectory)/\(name)/mapping.json")
                decoders[name] = try MappedDecoder(mapping: mapping, configuration: .init(
                    sharedKey: name == "google-ads" ? googleAdsKey : nil, maxBodyBytes: maxBodyBytes, routingChannel: "ads"))
            } catch {
                unavailable[name] = "\(error)"
            }
        }
        self.decoders = decoders
        self.unavailable = unavailable
    }

    public func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection> {
        let routingSource = envelope.routingKey.split(separator: ".").dropFirst(2).first.map(String.init)
        let candidates = [envelope.type, envelope.appID, routingSource].compactMap { $0 }
        guard let name = candidates.first(where: { self.decoders[$0] != nil || self.unavailable[$0] != nil }) else {
            return .failure(InboundRejection(
                code: .unknownConnector,
                reason: "No ad connector named by the message's type, app_id or routing key (known: \(self.decoders.keys.sorted().joined(separator: ", "))).",
                field: "type"))
        }
        guard let decoder = self.decoders[name] else {
            return .failure(InboundRejection(
                code: .unknownConnector, reason: "The \(name) connector is not configured: \(self.unavailable[name] ?? "").", field: "type"))
        }
        return decoder.decode(envelope).map { lead in
            var s = lead.submission
            s.messageID = lead.idempotencyKey
            return s
        }
    }
}
