import RapportSupport
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
