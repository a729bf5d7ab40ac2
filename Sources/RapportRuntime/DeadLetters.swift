import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// Builds dead letters and archives them.
public enum DeadLetters {
    /// The exchange dead letters are published to.
    public static let exchange = "rapport.dlx"

    /// How many times the broker has delivered this message, counting this delivery.
    public static func attempts(of d: AMQPDelivery) -> Int {
        Int(d.properties.headers[DeadLetterHeader.deliveryCount]?.intValue ?? (d.redelivered ? 1 : 0)) + 1
    }

    /// The original message's properties plus the reason headers.
    public static func properties(for d: AMQPDelivery, rejection: InboundRejection, now: Date = Date()) -> AMQPProperties {
        Self.properties(d.properties, exchange: d.exchange, routingKey: d.routingKey, rejection: rejection,
                        attempts: Self.attempts(of: d), id: Self.deadLetterID(d, code: rejection.code), now: now)
    }

    /// The reason headers on top of a message's own properties (also for messages that never reached a
    /// queue, such as import rows refused before publishing).
    public static func properties(_ original: AMQPProperties, exchange: String, routingKey: String,
                                  rejection: InboundRejection, attempts: Int, id: String, now: Date = Date()) -> AMQPProperties {
        var p = original
        p.persistent = true
        if let user = p.userID {
            p.headers[DeadLetterHeader.originalUserID] = .string(user)
            p.userID = nil
        }
        p.headers[DeadLetterHeader.code] = .string(rejection.code.rawValue)
        p.headers[DeadLetterHeader.error] = .string(rejection.reason)
        if let f = rejection.field { p.headers[DeadLetterHeader.field] = .string(f) }
        p.headers[DeadLetterHeader.originalExchange] = .string(exchange)
        p.headers[DeadLetterHeader.originalRoutingKey] = .string(routingKey)
        p.headers[DeadLetterHeader.failedAt] = .string(ISO8601.string(now))
        p.headers[DeadLetterHeader.attempts] = .int(Int64(attempts))
        p.headers[DeadLetterHeader.id] = .string(id)
        return p
    }

    /// The same message failing the same way gets the same id, so a redelivery (after a crash between
    /// confirm and ack) is archived once. A replay carries `x-rapport-replayed-from`, so its failure is new.
    /// Without a message id two identical messages cannot be told apart, so each gets a fresh id.
    static func deadLetterID(_ d: AMQPDelivery, code: RejectionCode) -> String {
        guard d.properties.messageID?.isEmpty == false else { return UUID().uuidString.lowercased() }
        let parts = [d.exchange, d.routingKey, d.properties.appID ?? "", d.properties.messageID ?? "", code.rawValue,
                     d.properties.headers[DeadLetterHeader.replayedFrom]?.stringValue ?? "", SHA256.hex(d.body)]
        return SHA256.hex(parts.joined(separator: "\u{1F}"))
    }

    /// Publishes rejected deliveries to the dead-letter exchange and waits for the broker's confirms.
    ///
    /// - Throws: when the broker did not confirm every one; the caller then must not ack the originals.
    public static func publish(_ rejected: [(delivery: AMQPDelivery, rejection: InboundRejection)], on publisher: AMQPConnection) throws {
        guard !rejected.isEmpty else { return }
        for (d, r) in rejected {
            try publisher.publish(exchange: Self.exchange, routingKey: d.routingKey, body: d.body,
                                  properties: Self.properties(for: d, rejection: r), mandatory: true)
        }
        let result = try publisher.waitForConfirms(timeout: .seconds(30))
        if !result.allConfirmed {
            throw AMQPError(.nacked, replyText: "dead letters not confirmed: \(result.nacked.count) nacked, \(result.returned.count) unroutable")
        }
    }

    /// A header table as JSON, for the archive.
    public static func json(_ t: AMQPTable) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for (k, v) in t { o[k] = Self.json(v) }
        return .object(o)
    }

    static func json(_ v: AMQPFieldValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(String(decoding: b, as: UTF8.self))
        case .bool(let b): return .bool(b)
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .timestamp(let d): return .string(ISO8601.string(d))
        case .table(let t): return Self.json(t)
        case .array(let a): return .array(a.map { Self.json($0) })
        case .void: return .null
        }
    }

    /// JSON headers back to an AMQP table (for replay).
    public static func table(_ v: JSONValue) -> AMQPTable { TopologyApplier.table(v.objectValue ?? [:]) }

    /// One archive row from a delivery off `rapport.dead`: ours (with reason headers) or the broker's own
    /// (delivery limit, with `x-death`).
    public static func archiveRow(_ d: AMQPDelivery) -> JSONValue {
        let h = d.properties.headers
        var code = h[DeadLetterHeader.code]?.stringValue
        var reason = h[DeadLetterHeader.error]?.stringValue
        var exchange = h[DeadLetterHeader.originalExchange]?.stringValue
        var routingKey = h[DeadLetterHeader.originalRoutingKey]?.stringValue
        var attempts = h[DeadLetterHeader.attempts]?.intValue
        var failedAt = h[DeadLetterHeader.failedAt]?.stringValue
        var dedupe = h[DeadLetterHeader.id]?.stringValue.map { "rapport:" + $0 }
        if code == nil, case .array(let deaths)? = h["x-death"], case .table(let first)? = deaths.first {
            // Dead-lettered by the broker itself.
            let why = first["reason"]?.stringValue ?? "unknown"
            code = why == "delivery_limit" ? RejectionCode.deliveryLimit.rawValue : "broker_" + why
            reason = "The broker dead-lettered the message from queue '\(first["queue"]?.stringValue ?? "?")': \(why)."
            exchange = first["exchange"]?.stringValue
            if case .array(let keys)? = first["routing-keys"] { routingKey = keys.first?.stringValue }
            attempts = h[DeadLetterHeader.deliveryCount]?.intValue.map { $0 + 1 } ?? first["count"]?.intValue
            if case .timestamp(let t)? = first["time"] { failedAt = ISO8601.string(t) }
            let count = first["count"]?.intValue ?? 0
            dedupe = "broker:" + SHA256.hex(
                [d.properties.messageID ?? "", routingKey ?? "", failedAt ?? "", String(count)].joined(separator: "\u{1F}")
                + SHA256.hex(d.body))
        }
        let key = dedupe ?? "body:" + SHA256.hex(d.body) + ":" + (d.properties.messageID ?? "")
        var props: [String: JSONValue] = [:]
        if let v = d.properties.contentType { props["content_type"] = .string(v) }
        if let v = d.properties.messageID { props["message_id"] = .string(v) }
        if let v = d.properties.appID { props["app_id"] = .string(v) }
        if let v = d.properties.userID ?? d.properties.headers[DeadLetterHeader.originalUserID]?.stringValue { props["user_id"] = .string(v) }
        if let v = d.properties.correlationID { props["correlation_id"] = .string(v) }
        if let v = d.properties.type { props["type"] = .string(v) }
        if let v = d.properties.timestamp { props["timestamp"] = .number(v.timeIntervalSince1970.rounded()) }
        let source = d.properties.appID ?? routingKey.flatMap { rk -> String? in
            let parts = rk.split(separator: ".", maxSplits: 2)
            return parts.count == 3 ? String(parts[2]) : nil
        }
        return .object([
            "dedupe_key": .string(key),
            "message_id": JSONValue.optional(d.properties.messageID),
            "source": JSONValue.optional(source),
            "error_code": .string(code ?? "unknown"),
            "error": JSONValue.optional(reason),
            "original_exchange": JSONValue.optional(exchange),
            "original_routing_key": JSONValue.optional(routingKey),
            "failed_at": JSONValue.optional(failedAt),
            "attempts": attempts.map { .number(Double($0)) } ?? .null,
            "replayed_from": h[DeadLetterHeader.replayedFrom]?.stringValue.flatMap(Double.init).map { .number($0) } ?? .null,
            "headers": Self.json(h),
            "properties": .object(props),
            "body_hex": .string(d.body.map { String(format: "%02x", $0) }.joined()),
        ])
    }

}
