import Foundation
import Logging
import RapportSupport

/// The checks `rapport hwcheck` and the monitor service run.
public enum HealthChecks {
    /// The periodic checks; the on-demand tests (memory pattern, disk speed, surface scan) are added by
    /// `rapport hwcheck` when asked.
    public static func standard(managementURL: String, vhost: String, postgresURL: String) -> [any HealthCheck] {
        [CPUTemperatureCheck(), CPUVoltageCheck(), LoadCheck(), CPUUseCheck(), MemoryCheck(), DiskSpaceCheck(), SmartCheck(), GPUCheck(),
         BrokerCheck(managementURL: managementURL, vhost: vhost), DatabaseCheck(url: postgresURL),
         WorkerCheck(url: postgresURL)]
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
