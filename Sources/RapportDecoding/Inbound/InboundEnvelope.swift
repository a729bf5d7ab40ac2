import Foundation
import RapportCore
import RapportSupport

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
    /// The AMQP `user_id` property, which the broker checks against the publisher's login. Defaults to `nil`.
    public var userID: String?
    /// The headers a source's signature and a relay's HMAC travel in (`x-rapport-*`, `x-hub-signature-256`),
    /// as text. Defaults to empty.
    public var securityHeaders: [String: String] = [:]
    /// Set by ``SourcePolicy`` for a registered source: the broker-validated `user_id`, which then is the
    /// message's source whatever `app_id` says. Defaults to `nil`.
    public var authenticatedSource: String?

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
