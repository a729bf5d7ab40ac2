import ArgumentParser
import Foundation
import RapportMonitor
import RapportAMQP
import RapportCore
import RapportSupport
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct HWCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hwcheck",
        abstract: "Run every health check once: hardware, system, broker, database, workers. Exit 2 on critical.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "JSON for machines instead of the table.") var json = false
    @Option(help: "Also run the memory pattern self-test over this many MiB.") var memtest: Int?
    @Option(help: "Also time writing and reading back a temporary file in this directory.") var speedtest: String?
    @Option(help: "Size of the speed test file, MiB.") var speedtestMb = 256
    @Option(help: "Also read this file or block device end to end (read-only surface scan).") var scan: String?

    func run() throws {
        let settings = try self.global.settings()
        let vhost = (try? AMQPConnection.Configuration(url: settings.amqpURL))?.vhost ?? "/"
        var checks = HealthChecks.standard(managementURL: settings.managementURL, vhost: vhost, postgresURL: settings.postgresURL)
        if let mb = self.memtest { checks.append(MemorySelfTest(megabytes: mb)) }
        if let dir = self.speedtest { checks.append(DiskSpeedTest(directory: dir, megabytes: self.speedtestMb)) }
        if let path = self.scan { checks.append(SurfaceScan(path: path)) }
        var thresholds = DefaultThresholds.all
        thresholds.merge(settings.thresholds) { _, configured in configured }
        let engine = AlertEngine(host: HealthChecks.hostname, thresholds: thresholds)
        let (readings, unavailable) = HealthChecks.run(checks)
        let rows = readings.map { (r: $0, s: engine.severity(of: $0)) }
        let worst = rows.map(\.s).max() ?? .ok
        if self.json {
            let items: [JSONValue] = rows.map { row in
                .object(["check": .string(row.r.check), "category": .string(row.r.category), "subject": row.r.subject.map { .string($0) } ?? .null,
                         "status": .string(row.s.rawValue), "value": row.r.value.map { .number($0) } ?? .null, "unit": .string(row.r.unit),
                         "warning": thresholds[row.r.check]?.warning.map { .number($0) } ?? .null,
                         "critical": thresholds[row.r.check]?.critical.map { .number($0) } ?? .null,
                         "detail": row.r.detail.map { .string($0) } ?? .null])
            } + unavailable.map { u in
                .object(["check": .string(u.check), "category": .string(u.category), "status": .string("unavailable"), "detail": .string(u.reason)])
            }
            print(JSONValue.object(["host": .string(engine.host), "status": .string(worst.rawValue), "checks": .array(items)]).jsonString)
        } else {
            func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
            print("rapport hwcheck on \(engine.host)")
            print(pad("STATUS", 12) + pad("CHECK", 28) + pad("SUBJECT", 30) + pad("VALUE", 16) + pad("WARN/CRIT", 14) + "DETAIL")
            for row in rows {
                let t = thresholds[row.r.check]
                let limits = t.map { t in [t.warning, t.critical].map { $0.map { String(format: "%g", $0) } ?? "-" }.joined(separator: "/") + (t.lowerIsWorse ? " ↓" : "") } ?? ""
                let value = row.r.value.map { String(format: "%g", $0) + " " + row.r.unit } ?? "-"
                print(pad(row.s.rawValue.uppercased(), 12) + pad(row.r.check, 28) + pad(row.r.subject ?? "", 30) + pad(value, 16) + pad(limits, 14) + (row.r.detail ?? ""))
            }
            for u in unavailable {
                print(pad("UNAVAILABLE", 12) + pad(u.check, 28) + pad("", 30) + pad("-", 16) + pad("", 14) + u.reason)
            }
            print("overall: \(worst.rawValue.uppercased())")
        }
        if worst == .critical { throw ExitCode(2) }
    }
}

struct Alerts: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Subscribe to rapport.alerts and print alerts as they come.",
                                                    subcommands: [Tail.self])

    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print alerts (and their resolved messages) matching a binding, until Ctrl-C.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Topic binding, e.g. 'alert.critical.#' or 'alert.*.hardware.#'.") var binding = "alert.#"
        @Option(help: "Stop after this many alerts.") var count: Int?

        func run() throws {
            let settings = try self.global.settings()
            let conn = try AMQPConnection(configuration: settings.amqpConfiguration(name: "rapport-alerts-tail"))
            defer { conn.close() }
            try conn.declareExchange("rapport.alerts", type: "topic")
            // A private, auto-deleted queue: tailing leaves nothing behind.
            let queue = "rapport.alerts.tail-\(UUID().uuidString.prefix(8).lowercased())"
            try conn.declareQueue(queue, durable: false, exclusive: true, autoDelete: true)
            try conn.bindQueue(queue, exchange: "rapport.alerts", routingKey: self.binding)
            _ = try conn.consume(queue: queue)
            FileHandle.standardError.write("listening on rapport.alerts for '\(self.binding)'\n".data(using: .utf8)!)
            var seen = 0
            while self.count.map({ seen < $0 }) ?? true {
                guard let d = try conn.nextDelivery(timeout: .milliseconds(500)) else { continue }
                try conn.ack(d.deliveryTag)
                seen += 1
                let o = (try? JSONValue.parse(d.body))?.objectValue ?? [:]
                let value = o["value"].map { v -> String in if case .number(let n) = v { String(format: "%g", n) } else { "-" } } ?? "-"
                print("\(o["at"]?.stringValue ?? "") \(d.routingKey) [\(o["status"]?.stringValue ?? "")] \(o["host"]?.stringValue ?? "") "
                      + "\(o["subject"]?.stringValue ?? "") value \(value) \(o["unit"]?.stringValue ?? "")"
                      + (o["detail"]?.stringValue.map { " — \($0)" } ?? ""))
            }
        }
    }
}
