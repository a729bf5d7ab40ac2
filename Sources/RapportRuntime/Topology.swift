import Foundation
import RapportSupport

/// The broker topology: exchanges, queues and bindings, read from `topology/rapport.json`.
///
/// The same value is applied to the broker by the workers and exported as a RabbitMQ definitions file,
/// so the file stays the single source.
public struct Topology: Sendable, Hashable, Codable {
    public struct Exchange: Sendable, Hashable, Codable {
        public var name: String
        public var type: String
        /// Defaults to `true`.
        public var durable: Bool
        public var autoDelete: Bool
        public var `internal`: Bool
        public var arguments: [String: JSONValue]

        public init(name: String, type: String, durable: Bool = true, autoDelete: Bool = false,
                    internal: Bool = false, arguments: [String: JSONValue] = [:]) {
            self.name = name
            self.type = type
            self.durable = durable
            self.autoDelete = autoDelete
            self.internal = `internal`
            self.arguments = arguments
        }

        enum CodingKeys: String, CodingKey { case name, type, durable, autoDelete = "auto_delete", `internal`, arguments }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try c.decode(String.self, forKey: .name)
            self.type = try c.decode(String.self, forKey: .type)
            self.durable = try c.decodeIfPresent(Bool.self, forKey: .durable) ?? true
            self.autoDelete = try c.decodeIfPresent(Bool.self, forKey: .autoDelete) ?? false
            self.internal = try c.decodeIfPresent(Bool.self, forKey: .internal) ?? false
            self.arguments = try c.decodeIfPresent([String: JSONValue].self, forKey: .arguments) ?? [:]
        }
    }

    public struct Queue: Sendable, Hashable, Codable {
        public var name: String
        /// Defaults to `true`.
        public var durable: Bool
        public var autoDelete: Bool
        public var arguments: [String: JSONValue]

        public init(name: String, durable: Bool = true, autoDelete: Bool = false, arguments: [String: JSONValue] = [:]) {
            self.name = name
            self.durable = durable
            self.autoDelete = autoDelete
            self.arguments = arguments
        }

        enum CodingKeys: String, CodingKey { case name, durable, autoDelete = "auto_delete", arguments }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try c.decode(String.self, forKey: .name)
            self.durable = try c.decodeIfPresent(Bool.self, forKey: .durable) ?? true
            self.autoDelete = try c.decodeIfPresent(Bool.self, forKey: .autoDelete) ?? false
            self.arguments = try c.decodeIfPresent([String: JSONValue].self, forKey: .arguments) ?? [:]
        }
    }

    public struct Binding: Sendable, Hashable, Codable {
        public var source: String
        public var destination: String
        public var routingKey: String
        public var arguments: [String: JSONValue]

        public init(source: String, destination: String, routingKey: String, arguments: [String: JSONValue] = [:]) {
            self.source = source
            self.destination = destination
            self.routingKey = routingKey
            self.arguments = arguments
        }

        enum CodingKeys: String, CodingKey { case source, destination, routingKey = "routing_key", arguments }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.source = try c.decode(String.self, forKey: .source)
            self.destination = try c.decode(String.self, forKey: .destination)
            self.routingKey = try c.decode(String.self, forKey: .routingKey)
            self.arguments = try c.decodeIfPresent([String: JSONValue].self, forKey: .arguments) ?? [:]
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange], queues: [Queue], bindings: [Binding]) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// Parses the topology file and checks that every binding names a declared exchange and queue.
    public static func parse(_ bytes: [UInt8]) throws -> Topology {
        let t = try JSONDecoder().decode(Topology.self, from: Data(bytes))
        let exchanges = Set(t.exchanges.map(\.name)), queues = Set(t.queues.map(\.name))
        for b in t.bindings {
            guard exchanges.contains(b.source) else { throw TopologyError(.inconsistent, "binding source '\(b.source)' is not a declared exchange") }
            guard queues.contains(b.destination) else { throw TopologyError(.inconsistent, "binding destination '\(b.destination)' is not a declared queue") }
        }
        for q in t.queues {
            if let dlx = q.arguments["x-dead-letter-exchange"]?.stringValue, !exchanges.contains(dlx) {
                throw TopologyError(.inconsistent, "queue '\(q.name)' dead-letters to '\(dlx)', which is not a declared exchange")
            }
        }
        return t
    }

    /// Queues whose names start with `prefix`, e.g. the inbound work queues.
    public func queues(withPrefix prefix: String) -> [Queue] { self.queues.filter { $0.name.hasPrefix(prefix) } }

    /// The topology as a RabbitMQ definitions document for `rabbitmqctl import_definitions`.
    public func definitions(vhost: String = "/") -> JSONValue {
        .object([
            "vhosts": .array([.object(["name": .string(vhost)])]),
            "exchanges": .array(self.exchanges.map {
                .object([
                    "name": .string($0.name), "vhost": .string(vhost), "type": .string($0.type),
                    "durable": .bool($0.durable), "auto_delete": .bool($0.autoDelete),
                    "internal": .bool($0.internal), "arguments": .object($0.arguments),
                ])
            }),
            "queues": .array(self.queues.map {
                .object([
                    "name": .string($0.name), "vhost": .string(vhost), "durable": .bool($0.durable),
                    "auto_delete": .bool($0.autoDelete), "arguments": .object($0.arguments),
                ])
            }),
            "bindings": .array(self.bindings.map {
                .object([
                    "source": .string($0.source), "vhost": .string(vhost), "destination": .string($0.destination),
                    "destination_type": .string("queue"), "routing_key": .string($0.routingKey),
                    "arguments": .object($0.arguments),
                ])
            }),
        ])
    }
}
