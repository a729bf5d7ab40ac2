import Foundation
import RapportAMQP
import RapportCore
import RapportSupport

/// Declares a ``Topology`` on a broker connection. Idempotent: declaring what exists changes nothing.
public enum TopologyApplier {
    /// Reads and validates the topology file.
    public static func load(path: String) throws -> Topology {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TopologyError(.unreadable, "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try Topology.parse(Array(data))
        } catch let e as TopologyError {
            throw TopologyError(e.code, "\(path): \(e.message)")
        } catch {
            throw TopologyError(.unreadable, "\(path): \(error)")
        }
    }

    /// Declares every exchange, queue and binding.
    public static func apply(_ topology: Topology, on connection: AMQPConnection) throws {
        for e in topology.exchanges {
            try connection.declareExchange(e.name, type: e.type, durable: e.durable, autoDelete: e.autoDelete,
                                           isInternal: e.internal, arguments: Self.table(e.arguments))
        }
        for q in topology.queues {
            try connection.declareQueue(q.name, durable: q.durable, autoDelete: q.autoDelete,
                                        arguments: Self.table(q.arguments))
        }
        for b in topology.bindings {
            try connection.bindQueue(b.destination, exchange: b.source, routingKey: b.routingKey,
                                     arguments: Self.table(b.arguments))
        }
    }

    /// JSON arguments as an AMQP table: whole numbers become integers (the broker rejects
    /// `x-delivery-limit` as a float).
    public static func table(_ args: [String: JSONValue]) -> AMQPTable {
        var t = AMQPTable()
        for k in args.keys.sorted() { t[k] = Self.field(args[k]!) }
        return t
    }

    static func field(_ v: JSONValue) -> AMQPFieldValue {
        switch v {
        case .null: return .void
        case .bool(let b): return .bool(b)
        case .number(let d): return d == d.rounded() && abs(d) < 9e18 ? .int(Int64(d)) : .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(Self.field))
        case .object(let o): return .table(Self.table(o))
        }
    }
}
