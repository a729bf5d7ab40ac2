import Foundation
import RapportCore
import RapportSupport

/// Turns a web-form delivery (JSON body, `inbound.<channel>.<source>` routing key) into a ``LeadSubmission``.
///
/// The decoder is pure: it looks only at the ``InboundEnvelope`` and returns either a normalized lead or an
/// ``InboundRejection`` whose ``RejectionCode`` goes into the dead-letter headers. Checks run in this order,
/// and the first failure wins:
///
/// 1. body larger than ``maxBodyBytes`` → ``RejectionCode/bodyTooLarge``;
/// 2. content type missing or not `application/json` (parameters allowed) → ``RejectionCode/wrongContentType``;
/// 3. `message_id` missing or blank → ``RejectionCode/missingMessageID``;
/// 4. routing key not `inbound.<channel>.<source…>` → ``RejectionCode/unknownRoutingKey``;
/// 5. body not UTF-8, not JSON, or not a JSON object → ``RejectionCode/invalidJSON``;
/// 6. a known field of the wrong type or with an unparseable value → ``RejectionCode/invalidField``;
/// 7. neither a valid phone nor a valid email → ``RejectionCode/missingContact``.
///
/// Known body keys: `name`, `phone`, `email`, `company`, `address`, `message` (strings or `null`; `phone` may
/// also be a non-negative JSON integer), `submitted_at` (ISO 8601 date-time with `Z` or an offset, or epoch
/// seconds), `utm` and `fields` (objects). Other top-level keys are copied into ``LeadSubmission/fields``
/// unless `fields` already has that key. When one contact is valid and the other was given but is unusable,
/// the raw value is kept in `fields` as `raw_phone` or `raw_email`.
public struct WebFormDecoder: Sendable {
    /// Expected channel segment, e.g. "webform".
    ///
    /// The routing key must start with `inbound.<channel>.`. Defaults to `"webform"`.
    public var channel: String
    /// Largest accepted body, in bytes. Defaults to 65536.
    public var maxBodyBytes: Int
    /// ISO country code for phone numbers written without an international prefix. Defaults to `"CN"`.
    public var defaultPhoneRegion: String
    /// Accept a record with neither phone nor email when it names a person with an address, birth date or
    /// national id (imports identify people that way). Defaults to `false`.
    public var acceptsOtherIdentity: Bool = false

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - channel: The expected channel segment of the routing key. Defaults to `"webform"`.
    ///   - maxBodyBytes: The largest accepted body. Defaults to `65_536`.
    ///   - defaultPhoneRegion: The region for national-format phone numbers. Defaults to `"CN"`.
    public init(channel: String = "webform", maxBodyBytes: Int = 65_536, defaultPhoneRegion: String = "CN") {
        self.channel = channel
        self.maxBodyBytes = maxBodyBytes
        self.defaultPhoneRegion = defaultPhoneRegion
    }

    /// Validates and normalizes one delivery.
    ///
    /// - Parameter envelope: The delivery.
    /// - Returns: The lead, or the first rejection found (see the type's documentation for the order).
    public func decode(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection> {
        Result { () throws(InboundRejection) -> LeadSubmission in
            try self.decodeThrowing(envelope)
        }
    }

    // MARK: - Steps

    private static let knownKeys: Set<String> = [
        "name", "phone", "email", "company", "address", "message", "submitted_at", "utm", "fields",
    ]

    private func decodeThrowing(_ envelope: InboundEnvelope) throws(InboundRejection) -> LeadSubmission {
        let (messageID, source) = try InboundChecks.envelope(
            envelope, maxBodyBytes: self.maxBodyBytes, routingChannel: self.channel)

        let object = try InboundChecks.object(envelope.body)

        let name = try Self.optionalString(object, "name")
        let company = try Self.optionalString(object, "company")
        let address = try Self.optionalString(object, "address")
        let message = try Self.optionalString(object, "message")
        let rawEmail = try Self.optionalString(object, "email")
        let rawPhone = try Self.phoneText(object)
        let submittedAt = try Self.submittedAt(object)
        let utm = try Self.optionalObject(object, "utm") ?? [:]
        var fields = try Self.optionalObject(object, "fields") ?? [:]

        for (key, value) in object where !Self.knownKeys.contains(key) && fields[key] == nil {
            fields[key] = value
        }

        let phoneGiven = Normalize.text(rawPhone) != nil
        let emailGiven = Normalize.text(rawEmail) != nil
        let phone = Normalize.phone(rawPhone, defaultRegion: self.defaultPhoneRegion)
        let email = Normalize.email(rawEmail)

        let otherIdentity = self.acceptsOtherIdentity && Normalize.name(name) != nil
            && (Normalize.text(address) != nil || fields["national_id"] != nil || fields["birth_date"] != nil)
        switch (phone, email) {
        case (nil, nil) where otherIdentity:
            if phoneGiven { fields["raw_phone"] = object["phone"] }
            if emailGiven { fields["raw_email"] = object["email"] }
        case (nil, nil):
            throw Self.missingContact(
                rawPhone: phoneGiven ? rawPhone : nil, rawEmail: emailGiven ? rawEmail : nil)
        case (.some, nil) where emailGiven:
            fields["raw_email"] = object["email"]
        case (nil, .some) where phoneGiven:
            fields["raw_phone"] = object["phone"]
        default:
            break
        }

        return LeadSubmission(
            source: source,
            channel: self.channel,
            messageID: messageID,
            name: Normalize.name(name),
            phone: phone,
            email: email,
            company: Normalize.text(company),
            address: Normalize.text(address),
            message: Normalize.text(message),
            submittedAt: submittedAt,
            utm: utm,
            fields: fields)
    }




    // MARK: - Fields

    private static func optionalString(_ object: [String: JSONValue], _ key: String) throws(InboundRejection) -> String? {
        switch object[key] {
        case nil, .null?:
            return nil
        case .string(let value)?:
            return value
        case let other?:
            throw Self.invalidField(key, "must be a string or null, but is \(InboundChecks.kind(of: other))")
        }
    }

    private static func optionalObject(_ object: [String: JSONValue], _ key: String) throws(InboundRejection) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?:
            return nil
        case .object(let value)?:
            return value
        case let other?:
            throw Self.invalidField(key, "must be an object, but is \(InboundChecks.kind(of: other))")
        }
    }

    /// The phone as text: a string as is, or a non-negative integer number printed without a fraction.
    private static func phoneText(_ object: [String: JSONValue]) throws(InboundRejection) -> String? {
        switch object["phone"] {
        case nil, .null?:
            return nil
        case .string(let value)?:
            return value
        case .number(let value)? where value.isFinite && value >= 0 && value == value.rounded(.towardZero):
            return JSONValue.number(value).jsonString
        case .number?:
            throw Self.invalidField("phone", "must be a string or a non-negative integer, but is a fractional or negative number")
        case let other?:
            throw Self.invalidField("phone", "must be a string or an integer, but is \(InboundChecks.kind(of: other))")
        }
    }

    /// Largest accepted epoch-seconds value (year 5138); bigger numbers are almost certainly milliseconds.
    private static let maxEpochSeconds: Double = 100_000_000_000

    private static func submittedAt(_ object: [String: JSONValue]) throws(InboundRejection) -> Date? {
        switch object["submitted_at"] {
        case nil, .null?:
            return nil
        case .string(let text)?:
            if InboundChecks.isBlank(text) { return nil }
            guard let date = ISO8601.date(text) else {
                throw Self.invalidField(
                    "submitted_at",
                    "value '\(InboundChecks.excerpt(text))' is not an ISO 8601 date-time with a time zone (e.g. 2024-05-01T08:30:00Z)")
            }
            return date
        case .number(let seconds)?:
            guard seconds.isFinite, seconds >= 0 else {
                throw Self.invalidField("submitted_at", "must be a non-negative number of epoch seconds")
            }
            guard seconds < Self.maxEpochSeconds else {
                throw Self.invalidField("submitted_at", "is too large for epoch seconds (milliseconds were probably sent)")
            }
            return Date(timeIntervalSince1970: seconds)
        case let other?:
            throw Self.invalidField(
                "submitted_at", "must be an ISO 8601 string or a number of epoch seconds, but is \(InboundChecks.kind(of: other))")
        }
    }

    // MARK: - Rejections

    private static func invalidField(_ field: String, _ problem: String) -> InboundRejection {
        InboundRejection(code: .invalidField, reason: "Field '\(field)' \(problem).", field: field)
    }

    private static func missingContact(rawPhone: String?, rawEmail: String?) -> InboundRejection {
        let phonePart = rawPhone.map { "phone '\(InboundChecks.excerpt($0))' is not a valid phone number" }
        let emailPart = rawEmail.map { "email '\(InboundChecks.excerpt($0))' is not a valid email address" }
        let reason: String
        let field: String?
        switch (phonePart, emailPart) {
        case (let phone?, let email?):
            reason = "\(phone) and \(email)."
            field = "phone"
        case (let phone?, nil):
            reason = "\(phone) and no email was given."
            field = "phone"
        case (nil, let email?):
            reason = "\(email) and no phone was given."
            field = "email"
        case (nil, nil):
            reason = "Neither a phone number nor an email address was given."
            field = nil
        }
        return InboundRejection(code: .missingContact, reason: reason, field: field)
    }

    // MARK: - Helpers
}
