import Foundation
import RapportCore
import RapportSupport

/// Turns a delivery into a submission for one inbound queue.
public protocol InboundDecoder: Sendable {
    /// The submission, whose `messageID` is the ledger's idempotency key (for ad platforms, their lead
    /// id: a webhook re-sent with a new message id is still the same lead).
    func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection>
}

extension WebFormDecoder: InboundDecoder {}

/// A mapping's decoder on a queue: the mapped lead, keyed by the platform's lead id when the mapping names one.
public struct MappedInboundDecoder: InboundDecoder {
    public let mapped: MappedDecoder

    public init(_ mapped: MappedDecoder) { self.mapped = mapped }

    public func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection> {
        self.mapped.decode(envelope).map { (lead: DecodedLead) in
            var s = lead.submission
            s.messageID = lead.idempotencyKey
            return s
        }
    }
}
