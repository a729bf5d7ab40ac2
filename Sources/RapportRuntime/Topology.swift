import Foundation
import RapportCore
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

    /// A broker login: one per upstream source, plus the workers, ops and admin. Permissions follow from
    /// the role (``permissions``), so the file names who exists and the code says what each may do.
    public struct Identity: Sendable, Hashable, Codable {
        public enum Role: String, Sendable, Hashable, Codable {
            /// An upstream: writes to `rapport.inbound` only, under routing keys ending in its own name.
            case source
            /// The workers: everything under `rapport.*`, and replies through the default exchange.
            case worker
            /// People on call: read `rapport.alerts` through queues of their own (`ops.*` or server-named).
            case ops
            /// The CLI and administrators: everything in the vhost.
            case admin
        }

        public var name: String
        public var role: Role

        public init(name: String, role: Role) {
            self.name = name
            self.role = role
        }
    }

    /// What an identity may do in a vhost: RabbitMQ's three regular expressions, and for a source a topic
    /// permission on `rapport.inbound` (topic permissions are checked only on topic exchanges).
    public struct Permissions: Sendable, Hashable {
        public var configure: String
        public var write: String
        public var read: String
        public var topic: (exchange: String, write: String, read: String)?

        public static func == (a: Permissions, b: Permissions) -> Bool {
            a.configure == b.configure && a.write == b.write && a.read == b.read && a.topic?.exchange == b.topic?.exchange
                && a.topic?.write == b.topic?.write && a.topic?.read == b.topic?.read
        }

        public func hash(into h: inout Hasher) {
            h.combine(self.configure)
            h.combine(self.write)
            h.combine(self.read)
            h.combine(self.topic?.write)
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]
    /// Broker users and their roles. Defaults to none (an older topology file).
    public var identities: [Identity] = []

    public init(exchanges: [Exchange], queues: [Queue], bindings: [Binding], identities: [Identity] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.identities = identities
    }

    enum CodingKeys: String, CodingKey { case exchanges, queues, bindings, identities }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.exchanges = try c.decode([Exchange].self, forKey: .exchanges)
        self.queues = try c.decode([Queue].self, forKey: .queues)
        self.bindings = try c.decode([Binding].self, forKey: .bindings)
        self.identities = try c.decodeIfPresent([Identity].self, forKey: .identities) ?? []
    }

    /// The permissions of `identity`'s role.
    public static func permissions(of identity: Identity) -> Permissions {
        switch identity.role {
        case .source:
            // The name is checked to be [A-Za-z0-9_-] (``parse(_:)``), so it needs no escaping here.
            return Permissions(configure: "^$", write: "^rapport\\.inbound$", read: "^$",
                               topic: ("rapport.inbound", "^inbound\\.[^.]+\\.\(identity.name)$", "^$"))
        case .worker:
            return Permissions(configure: "^(rapport\\..*|amq\\.gen-.*)$", write: "^(rapport\\..*|amq\\.gen-.*|amq\\.default)$",
                               read: "^(rapport\\..*|amq\\.gen-.*)$", topic: nil)
        case .ops:
            return Permissions(configure: "^(ops\\..*|amq\\.gen-.*)$", write: "^(ops\\..*|amq\\.gen-.*)$",
                               read: "^(rapport\\.alerts|ops\\..*|amq\\.gen-.*)$", topic: nil)
        case .admin:
            return Permissions(configure: ".*", write: ".*", read: ".*", topic: nil)
        }
    }

    /// Parses the topology file and checks that every binding names a declared exchange and queue.
    public static func parse(_ bytes: [UInt8]) throws -> Topology {
        let t = try JSONDecoder().decode(Topology.self, from: Data(bytes))
        let exchanges = Set(t.exchanges.map(\.name)), queues = Set(t.queues.map(\.name))
        for b in t.bindings {
            guard exchanges.contains(b.source) else { throw TopologyError(.inconsistent, "binding source '\(b.source)' is not a declared exchange") }
            guard queues.contains(b.destination) else { throw TopologyError(.inconsistent, "binding destination '\(b.destination)' is not a declared queue") }
        }
        var names = Set<String>()
        for i in t.identities {
            guard RegisteredSource.isValidName(i.name) else {
                throw TopologyError(.inconsistent, "identity '\(i.name)' must be letters, digits, '-' and '_' (it ends routing keys)")
            }
            guard names.insert(i.name).inserted else { throw TopologyError(.inconsistent, "identity '\(i.name)' is declared twice") }
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
            // No password hash: these users log in with their client certificate (EXTERNAL) only.
            "users": .array(self.identities.map {
                .object(["name": .string($0.name), "password_hash": .string(""), "hashing_algorithm": .string("rabbit_password_hashing_sha256"),
                         "tags": .array($0.role == .admin ? ["impersonator"] : [])])
            }),
            "permissions": .array(self.identities.map {
                let p = Self.permissions(of: $0)
                return .object(["user": .string($0.name), "vhost": .string(vhost), "configure": .string(p.configure),
                                "write": .string(p.write), "read": .string(p.read)])
            }),
            "topic_permissions": .array(self.identities.compactMap { i in
                Self.permissions(of: i).topic.map {
                    .object(["user": .string(i.name), "vhost": .string(vhost), "exchange": .string($0.exchange),
                             "write": .string($0.write), "read": .string($0.read)])
                }
            }),
        ])
    }
}
