import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

/// The rabbitmq-c wrapper against a live broker.
@Suite(.enabled(if: liveServers, "set RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run broker tests"))
struct AMQPIntegrationTests {
    @Test(.timeLimit(.minutes(3)))
    func wrongPasswordIsLoginError() throws {
        var c = try AMQPConnection.Configuration(url: ProcessInfo.processInfo.environment["RAPPORT_AMQP_URL"]!)
        c.password = "definitely-wrong"
        #expect { try AMQPConnection(configuration: c) } throws: { ($0 as? AMQPError)?.code == .login }
    }

    @Test(.timeLimit(.minutes(3)))
    func nothingListeningIsConnectError() throws {
        var c = AMQPConnection.Configuration(host: "127.0.0.1", port: 1)
        c.timeoutSeconds = 2
        #expect { try AMQPConnection(configuration: c) } throws: { ($0 as? AMQPError)?.code == .connect }
    }

    @Test(.timeLimit(.minutes(3)))
    func headersAndPropertiesRoundTrip() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let conn = try env.amqp()
        defer { conn.close() }
        let q = try conn.declareQueue("", durable: false, exclusive: true, autoDelete: true)
        try conn.enableConfirms()
        var p = AMQPProperties(contentType: "application/json", messageID: "m-1", appID: "site", timestamp: Date(timeIntervalSince1970: 1_700_000_000))
        p.correlationID = "c-9"
        p.replyTo = "reply.q"
        p.headers = ["s": "张伟", "i": 42, "b": true, "d": .double(1.5), "nested": .table(["k": "v"]),
                     "list": .array([1, "two"]), "neg": .int(-7)]
        try conn.publish(exchange: "", routingKey: q.name, body: Array("{}".utf8), properties: p, mandatory: true)
        #expect(try conn.waitForConfirms().allConfirmed)
        try conn.consume(queue: q.name)
        let d = try #require(try conn.nextDelivery(timeout: .seconds(5)))
        #expect(d.properties.messageID == "m-1")
        #expect(d.properties.appID == "site")
        #expect(d.properties.correlationID == "c-9")
        #expect(d.properties.replyTo == "reply.q")
        #expect(d.properties.timestamp == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(d.properties.persistent)
        #expect(d.properties.headers == p.headers)
        #expect(d.body == Array("{}".utf8))
        try conn.ack(d.deliveryTag)
    }

    @Test(.timeLimit(.minutes(3)))
    func unroutableMandatoryPublishIsReturned() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let conn = try env.amqp()
        defer { conn.close() }
        try conn.enableConfirms()
        for i in 0..<5 {
            try conn.publish(exchange: "rapport.events", routingKey: "nobody.listens.\(i)", body: [1, 2, 3],
                             properties: AMQPProperties(messageID: "r-\(i)"), mandatory: true)
        }
        let r = try conn.waitForConfirms()
        #expect(r.nacked.isEmpty)
        #expect(r.returned.map(\.properties.messageID) == (0..<5).map { "r-\($0)" })
        #expect(r.returned.first?.replyCode == 312)
        #expect(conn.unconfirmedCount() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func conflictingRedeclareClosesTheChannelWithAReason() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let conn = try env.amqp()
        defer { conn.close() }
        #expect {
            try conn.declareQueue("rapport.inbound.webform", arguments: ["x-queue-type": "classic"])
        } throws: { e in
            guard let e = e as? AMQPError else { return false }
            return e.code == .channelClosed && e.replyCode == 406
        }
        // The connection survives a channel error: a new channel works.
        try conn.openChannel(2)
        let q = try conn.declareQueue("rapport.inbound.webform", passive: true, channel: 2)
        #expect(q.consumers == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func topologyApplyIsIdempotentAndExportImports() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let conn = try env.amqp()
        defer { conn.close() }
        try TopologyApplier.apply(env.topology, on: conn)  // second time: no change, no error
        let queues = try env.management("GET", "/api/queues/\(env.name)")
        for q in env.topology.queues { #expect(queues.contains("\"name\":\"\(q.name)\"")) }
        #expect(queues.contains("\"x-queue-type\":\"quorum\""))
        #expect(queues.contains("\"x-dead-letter-strategy\":\"at-least-once\""))
        // The export is what the broker's own import accepts.
        let defs = env.topology.definitions(vhost: env.name).jsonString
        try env.management("POST", "/api/definitions/\(env.name)", body: defs)
    }

    @Test(.timeLimit(.minutes(3)))
    func urlParsing() throws {
        let c = try AMQPConnection.Configuration(url: "amqp://u%40x:p%3Aw@broker.local:5673/%2F?heartbeat=15&connection_name=ingest")
        #expect(c.host == "broker.local" && c.port == 5673 && c.vhost == "/")
        #expect(c.username == "u@x" && c.password == "p:w")
        #expect(c.heartbeatSeconds == 15 && c.connectionName == "ingest")
        #expect(try AMQPConnection.Configuration(url: "amqp://h/prod").vhost == "prod")
        #expect(try AMQPConnection.Configuration(url: "amqp://h").vhost == "/")
        #expect(throws: AMQPError.self) { try AMQPConnection.Configuration(url: "http://h") }
        #expect(throws: AMQPError.self) { try AMQPConnection.Configuration(url: "amqps://h") }  // no CA: refuse, never unverified
    }
}
