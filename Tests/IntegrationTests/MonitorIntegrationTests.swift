import Foundation
import Logging
import RapportMonitor
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

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run monitor integration tests"))
struct MonitorIntegrationTests {
    /// The monitor watches this test's broker vhost; a queue backs up past its threshold and drains
    /// again. A subscriber on `rapport.alerts` must see exactly one alert and one resolved message,
    /// however many polls happen in between.
    @Test(.timeLimit(.minutes(2)))
    func aBreachAndItsRecoveryGiveOneAlertAndOneResolved() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        var settings = env.settings
        settings.managementURL = ProcessInfo.processInfo.environment["RAPPORT_MGMT_URL"] ?? "http://guest:guest@127.0.0.1:15672"
        // Only the breach we force counts: no consumers run here, so that check is switched off.
        settings.thresholds = ["queue_ready": Threshold(critical: 5), "queue_consumers": Threshold()]
        var silent = quietLogger
        silent.logLevel = .critical  // the alerts it logs are what this test asserts on the broker
        var configuration = settings.monitorConfiguration
        configuration.interval = .milliseconds(200)
        let monitor = PeriodicJobRunner(
            name: "monitor", job: MonitorService(configuration: configuration, checks: [BrokerCheck(managementURL: settings.managementURL, vhost: env.name)],
                                                 logger: silent),
            connections: try settings.connections(), logger: silent)

        let conn = try env.amqp(name: "ops-subscriber")
        defer { conn.close() }
        try conn.declareExchange("rapport.alerts", type: "topic")
        try conn.declareQueue("ops.alerts", durable: false, exclusive: true, autoDelete: true)
        try conn.bindQueue("ops.alerts", exchange: "rapport.alerts", routingKey: "alert.#")
        _ = try conn.consume(queue: "ops.alerts")

        let stop = StopSignal()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { monitor.run(index: 0, stop: stop); done.signal() }
        defer { stop.set(); done.wait() }

        var received: [(key: String, body: [String: JSONValue])] = []
        func collect(until: Duration, _ enough: () -> Bool) throws {
            let deadline = ContinuousClock.now + until
            while ContinuousClock.now < deadline && !enough() {
                if let d = try conn.nextDelivery(timeout: .milliseconds(200)) {
                    received.append((d.routingKey, (try JSONValue.parse(d.body)).objectValue ?? [:]))
                    try conn.ack(d.deliveryTag)
                }
            }
        }
        // Back the webform queue up past 5 (nobody consumes it in this test).
        try env.publish((0..<10).map { DemoData.webForm($0, run: "mon", messageID: "mon-\($0)") })
        try collect(until: .seconds(30)) { received.count >= 1 }
        #expect(received.map(\.key) == ["alert.critical.broker.queue_ready"])
        #expect(received.first?.body["subject"] == .string("rapport.inbound.webform"))
        #expect(received.first?.body["status"] == .string("firing"))
        #expect(received.first?.body["threshold"] == .number(5))
        try collect(until: .seconds(2)) { false }  // more polls, no more alerts
        #expect(received.count == 1)

        _ = try conn.purgeQueue("rapport.inbound.webform")
        try collect(until: .seconds(30)) { received.count >= 2 }
        try collect(until: .seconds(2)) { false }
        #expect(received.map(\.key) == ["alert.critical.broker.queue_ready", "alert.critical.broker.queue_ready"])
        #expect(received.map { $0.body["status"] } == [.string("firing"), .string("resolved")])
        #expect(received.last?.body["fingerprint"] == received.first?.body["fingerprint"])
    }
}

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run monitor integration tests"))
struct DatabaseCheckIntegrationTests {
    @Test func reachableAndUnreachable() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        guard case .readings(let up) = DatabaseCheck(url: env.settings.postgresURL).run() else { Issue.record("no readings"); return }
        #expect(up.map(\.check) == ["database_reachable", "database_connections_used", "database_size", "longest_transaction"])
        #expect(up.first?.value == 1 && (up[1].value ?? 0) > 0)
        guard case .readings(let down) = DatabaseCheck(url: "postgresql://rapport:rapport@127.0.0.1:1/none?connect_timeout=2").run() else {
            Issue.record("no readings"); return
        }
        #expect(down.map(\.check) == ["database_reachable"] && down.first?.value == 0)
        #expect(AlertEngine(host: "h").severity(of: down[0]) == .critical)
    }
}
