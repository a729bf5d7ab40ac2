import Foundation

/// Stable rejection codes that go in dead-letter headers (x-rapport-error-code). A struct, not an enum, so more can be added.
///
/// The raw values are part of the operational contract: dashboards, alerts and replay tooling match on them,
/// so an existing code's raw value must never change.
public struct RejectionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The snake_case wire form, for example `invalid_json`.
    public let rawValue: String

    /// Creates a code from its wire form.
    ///
    /// - Parameter rawValue: The snake_case code, for example `invalid_json`.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The ``rawValue``.
    public var description: String { self.rawValue }

    /// The body is not valid UTF-8, not valid JSON, or not a JSON object (`invalid_json`).
    public static let invalidJSON = RejectionCode(rawValue: "invalid_json")
    /// The message's content type is missing or not `application/json` (`wrong_content_type`).
    public static let wrongContentType = RejectionCode(rawValue: "wrong_content_type")
    /// The message has no `message_id` property, or a blank one (`missing_message_id`).
    public static let missingMessageID = RejectionCode(rawValue: "missing_message_id")
    /// No source system could be determined for the message (`missing_source`).
    public static let missingSource = RejectionCode(rawValue: "missing_source")
    /// Neither a valid phone number nor a valid email address was given (`missing_contact`).
    public static let missingContact = RejectionCode(rawValue: "missing_contact")
    /// A field has the wrong JSON type or an unparseable value (`invalid_field`).
    public static let invalidField = RejectionCode(rawValue: "invalid_field")
    /// The body is larger than the decoder's limit (`body_too_large`).
    public static let bodyTooLarge = RejectionCode(rawValue: "body_too_large")
    /// The routing key does not match what the consuming worker handles (`unknown_routing_key`).
    public static let unknownRoutingKey = RejectionCode(rawValue: "unknown_routing_key")
    /// The database refused the record, for example a constraint violation (`storage_rejected`).
    public static let storageRejected = RejectionCode(rawValue: "storage_rejected")
    /// The message was redelivered too many times without succeeding (`delivery_limit`).
    public static let deliveryLimit = RejectionCode(rawValue: "delivery_limit")
    /// No connector is configured for the message ("unknown_connector").
    public static let unknownConnector = RejectionCode(rawValue: "unknown_connector")
}

/// Why an inbound message was rejected: a stable ``RejectionCode`` plus one sentence for humans.
///
/// Workers put ``code`` in the `x-rapport-error-code` dead-letter header and ``reason`` next to it.
public struct InboundRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The machine-readable code.
    public var code: RejectionCode
    /// One human sentence, e.g. "Body is not valid JSON: unexpected end of data at byte 17."
    ///
    /// - Important: Never includes the whole body. Quoted field values are shortened.
    public var reason: String
    /// The field that failed, when one did (`phone`, `submitted_at`, or a message property such as
    /// `message_id`).
    public var field: String?

    /// Creates a rejection.
    ///
    /// - Parameters:
    ///   - code: The machine-readable code.
    ///   - reason: One human sentence.
    ///   - field: The field that failed, if any.
    public init(code: RejectionCode, reason: String, field: String? = nil) {
        self.code = code
        self.reason = reason
        self.field = field
    }

    /// `code` and `field`, then the reason, e.g. `invalid_field (phone): …`.
    public var description: String {
        if let field = self.field {
            return "\(self.code) (\(field)): \(self.reason)"
        }
        return "\(self.code): \(self.reason)"
    }
}

/// What a worker knows about one delivery, independent of the AMQP library.
///
/// The AMQP wrapper fills this from the basic properties and the body; decoders such as ``WebFormDecoder``
/// only ever see this type, which keeps them testable without a broker.
public struct InboundEnvelope: Sendable {
    /// The exchange the message was published to.
    public var exchange: String
    /// The routing key it was published with, e.g. `inbound.webform.site-a`.
    public var routingKey: String
    /// The AMQP `message_id` property, used for idempotency.
    public var messageID: String?
    /// The AMQP `app_id` property, naming the publishing system.
    public var appID: String?
    /// The AMQP `content_type` property, e.g. `application/json; charset=utf-8`.
    public var contentType: String?
    /// The AMQP `timestamp` property.
    public var timestamp: Date?
    /// The raw message body.
    public var body: [UInt8]
    /// The AMQP `type` property; the ads queue reads the connector name from it. Defaults to `nil`.
    public var type: String?

    /// Creates an envelope.
    ///
    /// - Parameters:
    ///   - exchange: The exchange the message was published to.
    ///   - routingKey: The routing key.
    ///   - messageID: The `message_id` property. Defaults to `nil`.
    ///   - appID: The `app_id` property. Defaults to `nil`.
    ///   - contentType: The `content_type` property. Defaults to `nil`.
    ///   - timestamp: The `timestamp` property. Defaults to `nil`.
    ///   - body: The raw body.
    public init(
        exchange: String,
        routingKey: String,
        messageID: String? = nil,
        appID: String? = nil,
        contentType: String? = nil,
        timestamp: Date? = nil,
        body: [UInt8]
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageID = messageID
        self.appID = appID
        self.contentType = contentType
        self.timestamp = timestamp
        self.body = body
    }
}

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
