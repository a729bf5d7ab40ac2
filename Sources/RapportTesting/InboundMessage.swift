import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// A message ready to publish to `rapport.inbound`.
public struct InboundMessage: Sendable {
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties

    public init(routingKey: String, body: [UInt8], properties: AMQPProperties) {
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
    }
}
