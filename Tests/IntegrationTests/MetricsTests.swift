import Foundation
import RapportMonitor
import Prometheus
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

/// swift-metrics is bootstrapped once per process.
let testRegistry: PrometheusCollectorRegistry = MetricsServer.bootstrap()

@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run metrics integration tests"))
struct MetricsIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func metricsCountIngestAndHealthzFollowsTheServers() async throws {
        let registry = testRegistry
        let env = try TestEnvironment()
        defer { env.tearDown() }
        var settings = env.settings
        settings.metricsPort = Int.random(in: 20_000..<40_000)
        let server = MetricsServer(port: settings.metricsPort, connections: try settings.connections(), registry: registry, logger: quietLogger)
        let stop = StopSignal(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { server.run(index: 0, stop: stop); done.signal() }
        defer { stop.set(); done.wait() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish((0..<3).map { DemoData.webForm($0, run: "met", messageID: "met-\($0)") }
                        + [InboundMessage(routingKey: "inbound.webform.site", body: Array("not json".utf8),
                                          properties: .init(contentType: "application/json", messageID: "met-bad", appID: "site"))])
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        let base = "http://127.0.0.1:\(settings.metricsPort)"
        var metrics = ""
        try await env.waitUntil("metrics served") {
            metrics = try MiniHTTP.get(base + "/metrics").body
            return metrics.contains(#"rapport_dead_letters_total{reason="invalid_json"}"#)
        }
        func value(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        // Other tests in this process count too, so at least ours.
        #expect((value(#"rapport_ingest_messages_total{channel="webform",outcome="created"}"#) ?? 0) >= 3)
        #expect((value(#"rapport_dead_letters_total{reason="invalid_json"}"#) ?? 0) >= 1)
        #expect(metrics.contains("rapport_ingest_batch_seconds_bucket"))
        // Fuzzy batches report how their commits went and what the profile cache answers.
        #expect((value(#"rapport_resolution_batches_total{replanned="false"}"#) ?? 0) >= 1)
        #expect((value("rapport_profile_cache_lookups") ?? -1) >= 0)
        #expect(value("rapport_profile_cache_hit_ratio").map { (0...1).contains($0) } == true)
        #expect(metrics.contains("rapport_profile_cache_bytes"))
        #expect(try MiniHTTP.get(base + "/healthz").status == 200)
        #expect(try MiniHTTP.get(base + "/nothing").status == 404)

        // The same server over a database that refuses connections is not ready.
        var broken = settings
        broken.postgresURL = "postgresql://rapport:rapport@127.0.0.1:1/nowhere?connect_timeout=2"
        broken.metricsPort = settings.metricsPort + 1
        let down = MetricsServer(port: broken.metricsPort, connections: try broken.connections(), registry: registry, logger: quietLogger)
        let health = down.healthy()
        #expect(!health.ok && health.detail.hasPrefix("database:"))
    }
}
