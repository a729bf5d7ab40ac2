import Foundation
import Logging
import Metrics
import RapportAMQP
import RapportCore
import Synchronization
import Workers

/// The checks `rapport hwcheck` and the monitor service run.
public enum HealthChecks {
    /// The periodic checks; the on-demand tests (memory pattern, disk speed, surface scan) are added by
    /// `rapport hwcheck` when asked.
    public static func standard(settings: RapportSettings, vhost: String) -> [any HealthCheck] {
        [CPUTemperatureCheck(), CPUVoltageCheck(), LoadCheck(), CPUUseCheck(), MemoryCheck(), DiskSpaceCheck(), SmartCheck(), GPUCheck(),
         BrokerCheck(managementURL: settings.managementURL, vhost: vhost), DatabaseCheck(url: settings.postgresURL),
         WorkerCheck(url: settings.postgresURL)]
    }

    /// Runs the checks, collecting readings and the sources that are unavailable here.
    public static func run(_ checks: [any HealthCheck]) -> (readings: [Reading], unavailable: [(check: String, category: String, reason: String)]) {
        var readings: [Reading] = [], unavailable: [(String, String, String)] = []
        for c in checks {
            switch c.run() {
            case .readings(let r): readings += r
            case .unavailable(let check, let category, let reason): unavailable.append((check, category, reason))
            }
        }
        return (readings, unavailable)
    }

    public static var hostname: String { ProcessInfo.processInfo.hostName }
}

/// Runs the checks every interval and publishes alerts to `rapport.alerts` (with confirms). A source
/// that does not exist here is logged once as unavailable, never again.
public final class MonitorService: Sendable {
    let settings: RapportSettings
    let logger: Logger
    let checks: [any HealthCheck]
    let engine: AlertEngine
    let interval: Duration
    let clock: @Sendable () -> Date
    /// The latest readings, for `/metrics`.
    public let latest = Mutex<[Reading]>([])

    public init(settings: RapportSettings, logger: Logger, checks: [any HealthCheck]? = nil, interval: Duration? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        self.logger = logger
        let vhost = (try? AMQPConnection.Configuration(url: settings.amqpURL))?.vhost ?? "/"
        self.checks = checks ?? HealthChecks.standard(settings: settings, vhost: vhost)
        var thresholds = DefaultThresholds.all
        thresholds.merge(settings.thresholds) { _, configured in configured }
        self.engine = AlertEngine(host: HealthChecks.hostname, thresholds: thresholds, renotify: TimeInterval(settings.alertRenotifySeconds),
                                  confirmations: settings.alertConfirmations)
        self.interval = interval ?? .seconds(settings.monitorIntervalSeconds)
        self.clock = clock
    }

    public func run(index: Int, stop: StopSignal) {
        var reportedUnavailable = Set<String>()
        var backoff = Backoff(maximum: .milliseconds(self.settings.maxBackoffMilliseconds))
        while !stop.isSet {
            do {
                let conn = try AMQPConnection(configuration: self.settings.amqpConfiguration(name: "rapport-monitor-\(index)"))
                defer { conn.close() }
                try conn.declareExchange("rapport.alerts", type: "topic")
                try conn.enableConfirms()
                backoff.reset()
                while !stop.isSet {
                    let (readings, unavailable) = HealthChecks.run(self.checks)
                    for u in unavailable where reportedUnavailable.insert(u.check).inserted {
                        self.logger.info("health source unavailable here", metadata: ["check": "\(u.check)", "why": "\(u.reason)"])
                    }
                    self.latest.withLock { $0 = readings }
                    for r in readings {
                        let dims = [("check", r.check), ("subject", r.subject ?? "")]
                        if let v = r.value { Gauge(label: "rapport_check_value", dimensions: dims).record(v) }
                        Gauge(label: "rapport_check_status", dimensions: dims).record(Double(self.engine.severity(of: r).rank))
                    }
                    let alerts = self.engine.evaluate(readings, now: self.clock())
                    try self.publish(alerts, on: conn)
                    let until = ContinuousClock.now + self.interval
                    while !stop.isSet && ContinuousClock.now < until {
                        try conn.pump()
                        stop.sleep(for: min(.milliseconds(500), until - ContinuousClock.now))
                    }
                }
            } catch {
                let wait = backoff.next()
                self.logger.warning("monitor reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                stop.sleep(for: wait)
            }
        }
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

extension MonitorService: WorkerLoop {}
