import RapportAMQP
import RapportDecoding

extension InboundEnvelope {
    /// Headers copied into ``securityHeaders``: what a signature or a relay's HMAC is checked with.
    static let securityHeaderNames = ["x-rapport-signature", "x-rapport-key-id", "x-rapport-signed-at", "x-hub-signature-256"]

    /// The envelope of a delivery: the one place broker properties become decoder input.
    public init(_ d: AMQPDelivery) {
        self.init(exchange: d.exchange, routingKey: d.routingKey, messageID: d.properties.messageID, appID: d.properties.appID,
                  contentType: d.properties.contentType, timestamp: d.properties.timestamp, body: d.body)
        self.type = d.properties.type
        self.userID = d.properties.userID
        if !d.properties.headers.isEmpty {
            for name in Self.securityHeaderNames {
                switch d.properties.headers[name] {
                case .string(let s)?: self.securityHeaders[name] = s
                case .bytes(let b)?: self.securityHeaders[name] = String(decoding: b, as: UTF8.self)
                case .int(let i)?: self.securityHeaders[name] = String(i)
                default: break
                }
            }
        }
    }
}
