import Foundation
import Logging
import RapportRuntime
import Metrics
import Prometheus
import RapportAMQP
import RapportPostgres
import Synchronization

/// `/metrics` (Prometheus text format) and `/healthz` (200 only while the broker and the database take
/// connections) on a loopback port.
public final class MetricsServer: Sendable {
    let port: Int
    let connections: ServerConnections
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// The last health verdict and when it was made: a scrape storm must not become a connection storm.
    private let health = Mutex<(ok: Bool, detail: String, at: ContinuousClock.Instant)?>(nil)

    /// Serves on `127.0.0.1:port`; `/healthz` tries `connections`.
    public init(port: Int, connections: ServerConnections, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.port = port
        self.connections = connections
        self.registry = registry
        self.logger = logger
    }

    /// Bootstraps swift-metrics with Prometheus once per process.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5)]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    public func run(index: Int, stop: StopSignal) {
        Supervisor(name: "metrics server", logger: self.logger, connections: nil).run(stop: stop) { backoff in
            try MiniHTTP.serve(host: "127.0.0.1", port: self.port, isStopped: { stop.isSet }) { path in
                switch path {
                case "/metrics": (200, "text/plain; version=0.0.4", self.registry.emitToString())
                case "/healthz":
                    self.healthy().ok ? (200, "text/plain", "ok\n") : (503, "text/plain", "not ready: \(self.healthy().detail)\n")
                default: (404, "text/plain", "try /metrics or /healthz\n")
                }
            }
        }
    }

    public func healthy() -> (ok: Bool, detail: String) {
        if let h = self.health.withLock({ $0 }), ContinuousClock.now - h.at < .seconds(2) { return (h.ok, h.detail) }
        var problems: [String] = []
        do {
            let conn = try self.connections.broker(name: "rapport-healthz")
            conn.close()
        } catch { problems.append("broker: \(error)") }
        do {
            let db = try self.connections.database()
            _ = try db.query("select 1")
            db.close()
        } catch { problems.append("database: \(error)") }
        let verdict = (ok: problems.isEmpty, detail: problems.joined(separator: "; "))
        self.health.withLock { $0 = (verdict.ok, verdict.detail, ContinuousClock.now) }
        return verdict
    }
}

extension MetricsServer: WorkerLoop {}
