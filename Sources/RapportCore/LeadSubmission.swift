import RapportSupport
import Foundation

/// A validated, normalized lead submission from any inbound channel.
///
/// At least one of ``phone`` and ``email`` is set. Contact fields are in canonical form (see ``Normalize``);
/// anything submitted that has no dedicated property is kept in ``fields``.
public struct LeadSubmission: Sendable, Hashable {
    /// The publishing system: `app_id`, else the routing key's `<source>` part.
    public var source: String
    /// The inbound channel: `webform`, `ads` or `import`.
    public var channel: String
    /// The message ID, used for idempotency.
    public var messageID: String
    /// The person's name, normalized with ``Normalize/name(_:)``.
    public var name: String?
    /// The phone number in E.164 form.
    public var phone: String?
    /// The lowercased email address.
    public var email: String?
    /// The company name.
    public var company: String?
    /// The postal address.
    public var address: String?
    /// The free-text message; line breaks are kept.
    public var message: String?
    /// When the person submitted the form, as reported by the publisher.
    public var submittedAt: Date?
    /// Campaign tracking parameters (`utm_source`, …), as submitted.
    public var utm: [String: JSONValue]
    /// Everything else that was submitted, plus `raw_phone`/`raw_email` when a contact value was unusable.
    public var fields: [String: JSONValue]
    /// Where the message came from and what its signature covered: set for registered sources only.
    public var provenance: MessageProvenance?

    /// Creates a submission.
    ///
    /// - Parameters:
    ///   - source: The publishing system.
    ///   - channel: The inbound channel.
    ///   - messageID: The message ID.
    ///   - name: The name. Defaults to `nil`.
    ///   - phone: The E.164 phone number. Defaults to `nil`.
    ///   - email: The email address. Defaults to `nil`.
    ///   - company: The company. Defaults to `nil`.
    ///   - address: The address. Defaults to `nil`.
    ///   - message: The message. Defaults to `nil`.
    ///   - submittedAt: The submission time. Defaults to `nil`.
    ///   - utm: Tracking parameters. Defaults to empty.
    ///   - fields: Other fields. Defaults to empty.
    public init(
        source: String,
        channel: String,
        messageID: String,
        name: String? = nil,
        phone: String? = nil,
        email: String? = nil,
        company: String? = nil,
        address: String? = nil,
        message: String? = nil,
        submittedAt: Date? = nil,
        utm: [String: JSONValue] = [:],
        fields: [String: JSONValue] = [:]
    ) {
        self.source = source
        self.channel = channel
        self.messageID = messageID
        self.name = name
        self.phone = phone
        self.email = email
        self.company = company
        self.address = address
        self.message = message
        self.submittedAt = submittedAt
        self.utm = utm
        self.fields = fields
    }
}

/// What the ledger keeps of a message from a registered source, so its signature can be checked again
/// later and a second body under the same message id is seen for what it is (`replayed`).
public struct MessageProvenance: Sendable, Hashable {
    public var bodySHA256: String
    public var exchange: String
    public var routingKey: String
    public var contentType: String
    /// Set when the message was signed.
    public var keyID: String?
    public var signature: String?
    public var signedAtMillis: Int64?

    public init(bodySHA256: String, exchange: String, routingKey: String, contentType: String,
                keyID: String? = nil, signature: String? = nil, signedAtMillis: Int64? = nil) {
        self.bodySHA256 = bodySHA256
        self.exchange = exchange
        self.routingKey = routingKey
        self.contentType = contentType
        self.keyID = keyID
        self.signature = signature
        self.signedAtMillis = signedAtMillis
    }
}

extension LeadSubmission {
    /// Key in ``fields`` of the upstream's own record id (a platform's lead id, an import's key column).
    public static let platformLeadIDKey = "_platform_lead_id"
}
