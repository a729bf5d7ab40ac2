import Foundation

/// A value in an AMQP field table (message headers, queue arguments).
public indirect enum AMQPFieldValue: Sendable, Hashable {
    case string(String)
    case bytes([UInt8])
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case timestamp(Date)
    case table(AMQPTable)
    case array([AMQPFieldValue])
    case void

    /// The value as text when it is a string (or UTF-8 bytes).
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The value as an integer when it is any integer kind.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// An ordered AMQP field table. Order is kept because brokers and tools show it.
public struct AMQPTable: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: AMQPFieldValue)

    public private(set) var keys: [String] = []
    private var values: [String: AMQPFieldValue] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        for (k, v) in elements { self[k] = v }
    }

    public subscript(key: String) -> AMQPFieldValue? {
        get { self.values[key] }
        set {
            if let newValue {
                if self.values.updateValue(newValue, forKey: key) == nil { self.keys.append(key) }
            } else if self.values.removeValue(forKey: key) != nil {
                self.keys.removeAll { $0 == key }
            }
        }
    }

    public var isEmpty: Bool { self.keys.isEmpty }
    public var count: Int { self.keys.count }

    public func makeIterator() -> AnyIterator<Element> {
        var it = self.keys.makeIterator()
        return AnyIterator {
            guard let k = it.next() else { return nil }
            return (k, self.values[k]!)
        }
    }
}

/// Message properties (the AMQP basic class header).
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable = AMQPTable()
    /// Persistent (delivery mode 2). Defaults to `true`.
    public var persistent: Bool = true
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: Date?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(contentType: String? = nil, messageID: String? = nil, appID: String? = nil,
                timestamp: Date? = nil, headers: AMQPTable = AMQPTable(), persistent: Bool = true) {
        self.contentType = contentType
        self.messageID = messageID
        self.appID = appID
        self.timestamp = timestamp
        self.headers = headers
        self.persistent = persistent
    }
}

/// One message delivered to a consumer.
public struct AMQPDelivery: Sendable {
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(deliveryTag: UInt64, redelivered: Bool = false, exchange: String, routingKey: String, consumerTag: String = "",
                properties: AMQPProperties, body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
    }
}

/// A message the broker returned because it could not be routed (mandatory publish).
public struct AMQPReturnedMessage: Sendable {
    public var replyCode: Int
    public var replyText: String
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
}

/// The outcome of waiting for publisher confirms.
public struct AMQPConfirmResult: Sendable {
    /// Sequence numbers the broker nacked.
    public var nacked: [UInt64] = []
    /// Messages returned as unroutable (they are also acked by the broker).
    public var returned: [AMQPReturnedMessage] = []
    public var allConfirmed: Bool { self.nacked.isEmpty && self.returned.isEmpty }
}
