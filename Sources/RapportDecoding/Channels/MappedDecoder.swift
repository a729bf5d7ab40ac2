import Foundation
import RapportCore
import RapportSupport

/// Decodes a channel's payloads into ``DecodedLead``s by following a ``ChannelMapping``.
///
/// The decoder is pure, like ``RapportCore/WebFormDecoder``: it looks only at its input and returns either
/// a normalized lead or an ``RapportCore/InboundRejection`` for the dead-letter headers. For a message,
/// checks run in this order, and the first failure wins:
///
/// 1. body larger than ``Configuration/maxBodyBytes`` → ``RapportCore/RejectionCode/bodyTooLarge``;
/// 2. content type missing or not `application/json` → ``RapportCore/RejectionCode/wrongContentType``;
/// 3. `message_id` missing or blank → ``RapportCore/RejectionCode/missingMessageID``;
/// 4. routing key not `inbound.<routing channel>.<source…>` → ``RapportCore/RejectionCode/unknownRoutingKey``;
/// 5. body not UTF-8, not JSON, or not a JSON object → ``RapportCore/RejectionCode/invalidJSON``;
/// 6. the mapping's ``ChannelMapping/keyField`` missing or not equal to ``Configuration/sharedKey``
///    → ``RapportCore/RejectionCode/invalidField`` naming that field (for example `google_key`);
/// 7. the payload does not fit the mapping (a malformed `user_column_data`/`field_data` list, a missing
///    idempotency key, a value of the wrong type, a date in none of the rule's formats, a missing
///    `required` field) → ``RapportCore/RejectionCode/invalidField`` naming the payload field;
/// 8. none of the mapping's ``ChannelMapping/requiredAny`` contacts is valid
///    → ``RapportCore/RejectionCode/missingContact`` naming the Rapport contact field(s).
///
/// Rows of an import go through ``decodeRow(header:row:line:source:file:)``, which skips steps 1–5.
///
/// Contact values are normalized exactly as ``RapportCore/WebFormDecoder`` does (``RapportCore/Normalize``),
/// so the `webform` mapping gives the same ``RapportCore/LeadSubmission`` as that decoder.
public struct MappedDecoder: Sendable {
    /// Settings that are not part of the mapping file: limits and secrets.
    public struct Configuration: Sendable {
        /// Largest accepted body, in bytes. Defaults to `65_536`.
        public var maxBodyBytes: Int
        /// The routing-key channel segment to expect instead of ``ChannelMapping/routingChannel``.
        ///
        /// Defaults to `nil`, which uses the mapping's.
        public var routingChannel: String?
        /// The key that the mapping's ``ChannelMapping/keyField`` must equal (Google Ads' `google_key`).
        ///
        /// Required when the mapping has a key field. Defaults to `nil`.
        /// - Important: Comes from the worker's secret settings, never from the mapping file.
        public var sharedKey: String?
        /// The app secret a relay's `x-hub-signature-256` header (Meta's webhook signature: `sha256=` and the
        /// hex HMAC-SHA256 of the body under this secret) is checked with, when the header is there.
        /// It proves the body came from the platform; it does not stop a replay. Defaults to `nil`.
        /// - Important: Comes from the worker's secret settings, never from the mapping file.
        public var hubSecret: String?

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - sharedKey: The shared key, for mappings with a key field. Defaults to `nil`.
        ///   - maxBodyBytes: The largest accepted body. Defaults to `65_536`.
        ///   - routingChannel: A routing-channel override. Defaults to `nil`.
        public init(sharedKey: String? = nil, maxBodyBytes: Int = 65_536, routingChannel: String? = nil) {
            self.sharedKey = sharedKey
            self.maxBodyBytes = maxBodyBytes
            self.routingChannel = routingChannel
        }
    }

    /// The mapping this decoder follows.
    public let mapping: ChannelMapping
    /// Limits and secrets.
    public let configuration: Configuration

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - mapping: The channel's mapping.
    ///   - configuration: Limits and secrets. Defaults to ``Configuration/init(sharedKey:maxBodyBytes:routingChannel:)``.
    /// - Throws: ``ChannelMappingError`` with code ``ChannelMappingError/Code/missingConfiguration`` when the
    ///   mapping has a ``ChannelMapping/keyField`` but no non-empty ``Configuration/sharedKey`` was given.
    public init(mapping: ChannelMapping, configuration: Configuration = .init()) throws(ChannelMappingError) {
        if let keyField = mapping.keyField, (configuration.sharedKey ?? "").isEmpty {
            throw ChannelMappingError(
                code: .missingConfiguration, path: "key_field",
                reason: "The \(mapping.channel) mapping checks '\(keyField)', but no shared key is configured.")
        }
        self.mapping = mapping
        self.configuration = configuration
    }

    /// The routing-key channel segment this decoder accepts, which is also the decoded
    /// ``RapportCore/LeadSubmission/channel``.
    public var routingChannel: String {
        self.configuration.routingChannel ?? self.mapping.routingChannel
    }

    /// Validates and normalizes one delivery.
    ///
    /// - Parameter envelope: The delivery.
    /// - Returns: The lead, or the first rejection found (see the type's documentation for the order).
    public func decode(_ envelope: InboundEnvelope) -> Result<DecodedLead, InboundRejection> {
        Result { () throws(InboundRejection) -> DecodedLead in
            let (messageID, source) = try InboundChecks.envelope(
                envelope, maxBodyBytes: self.configuration.maxBodyBytes, routingChannel: self.routingChannel)
            if let secret = self.configuration.hubSecret, let header = envelope.securityHeaders[Self.hubSignatureHeader] {
                try Self.checkHubSignature(header, body: envelope.body, secret: secret)
            }
            let object = try InboundChecks.object(envelope.body)
            return try self.decodePayload(object, messageID: messageID, source: source)
        }
    }

    /// Validates and normalizes one delivery, for callers that need only the ``RapportCore/LeadSubmission``.
    ///
    /// The platform lead id and the test flag are still in the submission's `fields` (see ``DecodedLead``).
    ///
    /// - Parameter envelope: The delivery.
    /// - Returns: The submission, or the first rejection found.
    public func decodeSubmission(_ envelope: InboundEnvelope) -> Result<LeadSubmission, InboundRejection> {
        self.decode(envelope).map(\.submission)
    }

    /// Validates and normalizes one row of an import file.
    ///
    /// Cells are matched to the header by position. Header names are trimmed (and a byte order mark
    /// removed); a repeated header name is addressed as `<name>#<column number>`. Empty cells count as
    /// missing. The submission's ``RapportCore/LeadSubmission/messageID`` is `<file>:<line>` (or
    /// `line:<line>` without a file) and its channel ``routingChannel`` (`import` for csv mappings).
    /// Rejection reasons start with the location, for example `records.csv line 12: …`.
    ///
    /// - Parameters:
    ///   - header: The header row.
    ///   - row: The row's cells; there must be as many as header names.
    ///   - line: The row's line number in the file (the header is line 1).
    ///   - source: The importing system, which becomes ``RapportCore/LeadSubmission/source``.
    ///   - file: The file name, for the message id and error text. Defaults to `nil`.
    /// - Returns: The lead, or the first rejection found.
    public func decodeRow(
        header: [String], row: [String], line: Int, source: String, file: String? = nil
    ) -> Result<DecodedLead, InboundRejection> {
        let location = file.map { "\($0) line \(line)" } ?? "Line \(line)"
        return Result { () throws(InboundRejection) -> DecodedLead in
            do throws(InboundRejection) {
                guard !InboundChecks.isBlank(source) else {
                    throw InboundRejection(code: .missingSource, reason: "No source was given for the import.")
                }
                guard row.count == header.count else {
                    throw InboundRejection(
                        code: .invalidField,
                        reason: "Row has \(row.count) cells but the header has \(header.count) columns.")
                }
                var object: [String: JSONValue] = [:]
                for (index, rawName) in header.enumerated() {
                    var name = rawName.trimmingCharacters(in: .whitespacesAndNewlines)
                    if name.unicodeScalars.first == "\u{FEFF}" {
                        name = String(name.unicodeScalars.dropFirst()).trimmingCharacters(in: .whitespaces)
                    }
                    if name.isEmpty || object[name] != nil {
                        name = "\(name)#\(index + 1)"
                    }
                    let cell = row[index]
                    if !InboundChecks.isBlank(cell) {
                        object[name] = .string(cell)
                    }
                }
                let messageID = "\(file ?? "line"):\(line)"
                return try self.decodePayload(
                    object, messageID: messageID, source: source.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw InboundRejection(code: error.code, reason: "\(location): \(error.reason)", field: error.field)
            }
        }
    }

    // MARK: - Shared path

    /// Everything after the envelope: key check, layout, rules, contacts.
    private func decodePayload(
        _ object: [String: JSONValue], messageID: String, source: String
    ) throws(InboundRejection) -> DecodedLead {
        if let keyField = self.mapping.keyField {
            try self.checkKey(object[keyField], field: keyField)
        }
        let record = try MappingPayload(object, mapping: self.mapping)
        var evaluation = MappingEvaluation(record: record, mapping: self.mapping)
        return try evaluation.lead(source: source, channel: self.routingChannel, messageID: messageID)
    }

    public static let hubSignatureHeader = "x-hub-signature-256"

    /// `sha256=<hex HMAC-SHA256 of the raw body under the app secret>`, compared in constant time.
    static func checkHubSignature(_ header: String, body: [UInt8], secret: String) throws(InboundRejection) {
        let expected = HMACSHA256.mac(key: Array(secret.utf8), message: body)
        guard header.hasPrefix("sha256="), let given = Hex.decode(String(header.dropFirst(7)).lowercased()),
              HMACSHA256.equal(given, expected) else {
            throw InboundRejection(code: .badSignature, reason: "\(Self.hubSignatureHeader) does not match the body under the app secret.",
                                   field: Self.hubSignatureHeader)
        }
    }

    private func checkKey(_ value: JSONValue?, field: String) throws(InboundRejection) {
        guard case .string(let given)? = value, !given.isEmpty else {
            throw InboundRejection(
                code: .invalidField, reason: "Field '\(field)' is missing; the sender cannot be verified.", field: field)
        }
        guard InboundChecks.constantTimeEquals(given, self.configuration.sharedKey ?? "") else {
            throw InboundRejection(
                code: .invalidField, reason: "Field '\(field)' does not match the configured key.", field: field)
        }
    }
}
