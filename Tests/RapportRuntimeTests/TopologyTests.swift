import Foundation
import RapportCore
import RapportRuntime
import RapportSupport
import Testing

struct CommandBindingTests {
    @Test func everyCommandRoutingKeyIsBoundToItsQueue() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("topology/rapport.json")
        let t = try Topology.parse(Array(try Data(contentsOf: file)))
        func keys(_ queue: String) -> Set<String> {
            Set(t.bindings.filter { $0.source == "rapport.commands" && $0.destination == queue }.map(\.routingKey))
        }
        #expect(keys("rapport.commands.sales") == Set(SalesCommand.routingKeys))
        #expect(keys("rapport.commands.identity") == Set(IdentityCommand.routingKeys))
        #expect(keys("rapport.commands.records") == Set(RecordCommand.routingKeys))
    }
}

@Suite struct TopologyTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("topology/rapport.json")

    @Test func theShippedTopologyHasWhatTheSpineNeeds() throws {
        let t = try Topology.parse(Array(try Data(contentsOf: Self.file)))
        let exchanges = Dictionary(uniqueKeysWithValues: t.exchanges.map { ($0.name, $0.type) })
        #expect(exchanges["rapport.inbound"] == "topic")
        #expect(exchanges["rapport.events"] == "topic")
        #expect(exchanges["rapport.alerts"] == "topic")
        #expect(exchanges["rapport.commands"] == "direct")
        #expect(exchanges["rapport.dlx"] != nil)
        for name in ["webform", "ads", "import"] {
            let q = try #require(t.queues.first { $0.name == "rapport.inbound.\(name)" })
            #expect(q.arguments["x-queue-type"] == "quorum")
            #expect(q.arguments["x-dead-letter-exchange"] == "rapport.dlx")
            #expect(q.arguments["x-dead-letter-strategy"] == "at-least-once")
            #expect(q.arguments["x-overflow"] == "reject-publish")
            #expect(q.arguments["x-delivery-limit"]?.isNumber == true)
            #expect(t.bindings.contains { $0.destination == q.name && $0.routingKey == "inbound.\(name).#" })
        }
        #expect(t.queues.contains { $0.name == "rapport.dead" && $0.durable })
        #expect(t.bindings.contains { $0.source == "rapport.dlx" && $0.destination == "rapport.dead" })
    }

    @Test func bindingsMustNameDeclaredThings() {
        let bad = ##"{"exchanges":[{"name":"x","type":"topic"}],"queues":[],"bindings":[{"source":"x","destination":"nope","routing_key":"#"}]}"##
        #expect(throws: TopologyError.self) { try Topology.parse(Array(bad.utf8)) }
        let dlx = #"{"exchanges":[],"queues":[{"name":"q","arguments":{"x-dead-letter-exchange":"gone"}}],"bindings":[]}"#
        #expect(throws: TopologyError.self) { try Topology.parse(Array(dlx.utf8)) }
    }

    @Test func definitionsCarryVhostAndArguments() throws {
        let t = try Topology.parse(Array(try Data(contentsOf: Self.file)))
        let d = t.definitions(vhost: "crm").objectValue!
        guard case .array(let queues)? = d["queues"], case .object(let q)? = queues.first else {
            Issue.record("no queues")
            return
        }
        #expect(q["vhost"] == "crm")
        #expect(q["arguments"]?.objectValue?["x-queue-type"] == "quorum")
        guard case .array(let bindings)? = d["bindings"], case .object(let b)? = bindings.first else {
            Issue.record("no bindings")
            return
        }
        #expect(b["destination_type"] == "queue")
    }
}

extension JSONValue {
    var isNumber: Bool { if case .number = self { return true } else { return false } }
}

/// Broker identities: who may write where, as the topology file declares and definitions.json exports.
struct TopologyIdentityTests {
    static func matches(_ pattern: String, _ s: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }

    @Test func aSourceWritesOnlyToInboundUnderItsOwnName() throws {
        let t = try Topology.parse(Array(try Data(contentsOf: TopologyTests.file)))
        let sources = t.identities.filter { $0.role == .source }
        #expect(!sources.isEmpty)
        #expect(Set(t.identities.map(\.role)) == [.source, .worker, .ops, .admin])
        let p = Topology.permissions(of: Topology.Identity(name: "site-a", role: .source))
        #expect(Self.matches(p.write, "rapport.inbound") && !Self.matches(p.write, "rapport.commands") && !Self.matches(p.read, "rapport.inbound"))
        let topic = try #require(p.topic)
        #expect(topic.exchange == "rapport.inbound")
        #expect(Self.matches(topic.write, "inbound.webform.site-a"))
        #expect(!Self.matches(topic.write, "inbound.webform.site-b"))
        #expect(!Self.matches(topic.write, "inbound.webform.site-a.x") && !Self.matches(topic.write, "inbound.webform.xsite-a"))
        let ops = Topology.permissions(of: Topology.Identity(name: "rapport-ops", role: .ops))
        #expect(Self.matches(ops.read, "rapport.alerts") && !Self.matches(ops.read, "rapport.inbound.webform")
            && !Self.matches(ops.write, "rapport.alerts"))
    }

    @Test func definitionsCarryUsersWithoutPasswordsAndTheirPermissions() throws {
        let t = try Topology.parse(Array(try Data(contentsOf: TopologyTests.file)))
        let d = try #require(t.definitions(vhost: "/").objectValue)
        let users = try #require(d["users"]?.arrayValue)
        #expect(users.count == t.identities.count)
        #expect(users.allSatisfy { $0.objectValue?["password_hash"] == .string("") })
        #expect(d["permissions"]?.arrayValue?.count == t.identities.count)
        #expect(d["topic_permissions"]?.arrayValue?.count == t.identities.filter { $0.role == .source }.count)
    }

    @Test func anIdentityNameThatCouldWidenARegexIsRefused() {
        let json = #"{"exchanges": [], "queues": [], "bindings": [], "identities": [{"name": "site.*", "role": "source"}]}"#
        #expect(throws: TopologyError.self) { try Topology.parse(Array(json.utf8)) }
    }
}
