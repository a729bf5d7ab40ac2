import Foundation
import Logging
import Metrics
import RapportAMQP
import RapportRuntime
import RapportSupport
import Synchronization

/// Runs the checks every interval and publishes alerts to `rapport.alerts` (with confirms), as a
/// periodic job. A source that does not exist here is logged once as unavailable, never again.
public final class MonitorService: PeriodicJob {
    public struct Configuration: Sendable {
        /// How often the checks run. Defaults to `30` s.
        public var interval: Duration = .seconds(30)
        /// How often a lasting alert is sent again. Defaults to `3600` s.
        public var renotify: TimeInterval = 3600
        /// Polls in a row a breach must last before it becomes an alert. Defaults to `2`.
        public var confirmations: Int = 2
        /// Per-check thresholds over ``DefaultThresholds``. Defaults to none.
        public var thresholds: [String: Threshold] = [:]

        public init() {}
    }

    let logger: Logger
    let checks: [any HealthCheck]
    let engine: AlertEngine
    let interval: Duration
    let clock: @Sendable () -> Date
    private let reportedUnavailable = Mutex<Set<String>>([])
    /// The latest readings, for `/metrics`.
    public let latest = Mutex<[Reading]>([])
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: false, publisher: true) }

    public init(configuration: Configuration, checks: [any HealthCheck], logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.logger = logger
        self.checks = checks
        var thresholds = DefaultThresholds.all
        thresholds.merge(configuration.thresholds) { _, configured in configured }
        self.engine = AlertEngine(host: HealthChecks.hostname, thresholds: thresholds, renotify: configuration.renotify,
                                  confirmations: configuration.confirmations)
        self.interval = configuration.interval
        self.clock = clock
    }

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        guard let conn = context.publisher else { throw AMQPError(.connectionClosed, replyText: "no publisher") }
        try conn.declareExchange("rapport.alerts", type: "topic")
        let (readings, unavailable) = HealthChecks.run(self.checks)
        for u in unavailable where self.reportedUnavailable.withLock({ $0.insert(u.check).inserted }) {
            self.logger.info("health source unavailable here", metadata: ["check": "\(u.check)", "why": "\(u.reason)"])
        }
        self.latest.withLock { $0 = readings }
        for r in readings {
            let dims = [("check", r.check), ("subject", r.subject ?? "")]
            if let v = r.value { Gauge(label: "rapport_check_value", dimensions: dims).record(v) }
            Gauge(label: "rapport_check_status", dimensions: dims).record(Double(self.engine.severity(of: r).rank))
        }
        try self.publish(self.engine.evaluate(readings, now: self.clock()), on: conn)
        return self.interval
    }

    func publish(_ alerts: [Alert], on conn: AMQPConnection) throws {
        guard !alerts.isEmpty else { return }
        for a in alerts {
            var p = AMQPProperties(contentType: "application/json", messageID: "\(a.fingerprint):\(a.status):\(Int(a.at.timeIntervalSince1970 * 1000))",
                                   appID: "rapport-monitor", timestamp: a.at)
            p.type = a.status == "resolved" ? "alert.resolved" : "alert"
            try conn.publish(exchange: "rapport.alerts", routingKey: a.routingKey, body: Array(a.json.jsonString.utf8), properties: p)
            self.logger.log(level: a.status == "resolved" ? .info : (a.severity == .critical ? .error : .warning),
                            "alert \(a.status)", metadata: ["key": "\(a.routingKey)", "subject": "\(a.reading.subject ?? "-")",
                                                            "value": "\(a.reading.value.map { "\($0)" } ?? "-") \(a.reading.unit)"])
        }
        let r = try conn.waitForConfirms(timeout: .seconds(30))
        if !r.nacked.isEmpty { throw AMQPError(.nacked, replyText: "alerts nacked") }
    }
}
