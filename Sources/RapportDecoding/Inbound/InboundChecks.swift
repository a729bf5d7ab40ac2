import Foundation
import RapportCore
import RapportSupport

/// The envelope-level checks every inbound decoder applies (``WebFormDecoder`` and the mapped channel
/// decoders), in one order with stable codes, plus small helpers for rejection texts.
public enum InboundChecks {
    /// Body size, content type, message id and routing key.
    ///
    /// - Returns: The message id and the source (the authenticated `user_id`, else `app_id`, else the routing
    ///   key's `<source>` part).
    public static func envelope(
        _ envelope: InboundEnvelope, maxBodyBytes: Int, routingChannel: String
    ) throws(InboundRejection) -> (messageID: String, source: String) {
        let messageID = try Self.common(envelope, maxBodyBytes: maxBodyBytes)
        let routingSource = try Self.routingSource(envelope.routingKey, channel: routingChannel)
        if let source = envelope.authenticatedSource { return (messageID, source) }
        if let appID = envelope.appID, !Self.isBlank(appID) {
            return (messageID, appID.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (messageID, routingSource)
    }

    /// What every message passes, inbound data and commands alike: a body within the limit, JSON content,
    /// and a message id (the idempotency key).
    ///
    /// - Returns: the message id.
    public static func common(_ envelope: InboundEnvelope, maxBodyBytes: Int) throws(InboundRejection) -> String {
        if envelope.body.count > maxBodyBytes {
            throw InboundRejection(
                code: .bodyTooLarge,
                reason: "Body is \(envelope.body.count) bytes, more than the limit of \(maxBodyBytes) bytes.")
        }
        try Self.contentType(envelope.contentType)
        guard let messageID = envelope.messageID, !Self.isBlank(messageID) else {
            throw InboundRejection(
                code: .missingMessageID, reason: "Message has no message_id property.", field: "message_id")
        }
        return messageID
    }

    private static func contentType(_ contentType: String?) throws(InboundRejection) {
        guard let contentType, !Self.isBlank(contentType) else {
            throw InboundRejection(
                code: .wrongContentType, reason: "Message has no content type; expected application/json.",
                field: "content_type")
        }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingCharacters(in: .whitespaces)
            .lowercased()
        guard mediaType == "application/json" else {
            throw InboundRejection(
                code: .wrongContentType,
                reason: "Content type '\(Self.excerpt(contentType))' is not application/json.",
                field: "content_type")
        }
    }

    /// The `<source…>` part of `inbound.<channel>.<source…>`.
    private static func routingSource(_ routingKey: String, channel: String) throws(InboundRejection) -> String {
        let prefix = "inbound.\(channel)."
        let rejection = InboundRejection(
            code: .unknownRoutingKey,
            reason: "Routing key '\(Self.excerpt(routingKey))' is not of the form inbound.\(channel).<source>.",
            field: "routing_key")
        guard routingKey.hasPrefix(prefix) else { throw rejection }
        let source = String(routingKey.dropFirst(prefix.count))
        guard !source.isEmpty,
            source.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !Self.isBlank(String($0)) })
        else { throw rejection }
        return source
    }

    /// The body as a JSON object.
    public static func object(_ body: [UInt8]) throws(InboundRejection) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch let error as JSONValue.ParseError {
            throw InboundRejection(code: .invalidJSON, reason: "Body is not valid JSON: \(error.reason).")
        } catch {
            throw InboundRejection(code: .invalidJSON, reason: "Body is not valid JSON.")
        }
        guard let object = value.objectValue else {
            throw InboundRejection(
                code: .invalidJSON, reason: "Body is valid JSON but the top level is \(Self.kind(of: value)), not an object.")
        }
        return object
    }

    // MARK: - Helpers

    public static func isBlank(_ text: String) -> Bool {
        text.allSatisfy { $0.isWhitespace }
    }

    /// A value shortened for quoting in a reason: trimmed, at most 40 characters, line breaks made visible.
    public static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let flat = String(trimmed.map { $0.isNewline ? " " : $0 })
        return flat.count > 40 ? String(flat.prefix(40)) + "…" : flat
    }

    public static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compares two secrets in time that depends only on their lengths, not on where they differ.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference: UInt8 = left.count == right.count ? 0 : 1
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}
