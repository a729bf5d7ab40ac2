import RapportAMQP
import RapportDecoding

extension InboundEnvelope {
    /// The envelope of a delivery: the one place broker properties become decoder input.
    public init(_ d: AMQPDelivery) {
        self.init(exchange: d.exchange, routingKey: d.routingKey, messageID: d.properties.messageID, appID: d.properties.appID,
                  contentType: d.properties.contentType, timestamp: d.properties.timestamp, body: d.body)
        self.type = d.properties.type
    }
}
