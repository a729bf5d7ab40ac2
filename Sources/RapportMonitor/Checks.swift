import Foundation
import RapportSupport

/// One value a check read, e.g. the temperature of `thermal_zone0`.
public struct Reading: Sendable, Hashable, Codable {
    /// The check's name, e.g. `cpu_temperature`; thresholds are configured by it.
    public var check: String
    /// `hardware`, `system`, `broker`, `database` or `workers`: the alert routing key's third word.
    public var category: String
    /// What was measured, when a check reads several things (`thermal_zone0`, `/var`, `gpu0`).
    public var subject: String?
    public var value: Double?
    public var unit: String
    /// Anything a human should see (a SMART verdict, throttle reasons).
    public var detail: String?

    public init(check: String, category: String, subject: String? = nil, value: Double?, unit: String, detail: String? = nil) {
        self.check = check
        self.category = category
        self.subject = subject
        self.value = value
        self.unit = unit
        self.detail = detail
    }
}

/// What a check found: readings, or that its source does not exist on this machine.
public enum CheckOutcome: Sendable, Hashable {
    case readings([Reading])
    /// No sensors, no GPU, no smartctl: said once, never an error.
    case unavailable(check: String, category: String, reason: String)
}

/// A small unit that reads one source.
public protocol HealthCheck: Sendable {
    var name: String { get }
    var category: String { get }
    func run() -> CheckOutcome
}

/// The default thresholds; settings override them per check.
public enum DefaultThresholds {
    public static let all: [String: Threshold] = [
        "cpu_temperature": Threshold(warning: 80, critical: 95),
        "load_per_core": Threshold(warning: 2, critical: 4),
        "cpu_used": Threshold(warning: 90),
        "memory_available": Threshold(warning: 10, critical: 5, lowerIsWorse: true),
        "swap_used": Threshold(warning: 50, critical: 80),
        "disk_space_used": Threshold(warning: 85, critical: 95),
        "disk_inodes_used": Threshold(warning: 85, critical: 95),
        "disk_smart_failed": Threshold(critical: 1),
        "disk_reallocated_sectors": Threshold(warning: 1, critical: 50),
        "disk_pending_sectors": Threshold(warning: 1, critical: 10),
        "disk_temperature": Threshold(warning: 55, critical: 65),
        "disk_wear_used": Threshold(warning: 80, critical: 95),
        "gpu_temperature": Threshold(warning: 83, critical: 90),
        "gpu_memory_used": Threshold(warning: 95),
        "gpu_ecc_uncorrected": Threshold(critical: 1),
        "gpu_thermal_throttle": Threshold(warning: 1),
        "queue_ready": Threshold(warning: 100_000, critical: 1_000_000),
        "queue_consumers": Threshold(critical: 0, lowerIsWorse: true),
        "dead_letters_waiting": Threshold(warning: 1, critical: 1_000),
        "broker_reachable": Threshold(critical: 0, lowerIsWorse: true),
        "connection_blocked": Threshold(critical: 1),
        "database_reachable": Threshold(critical: 0, lowerIsWorse: true),
        "database_connections_used": Threshold(warning: 80, critical: 95),
        "longest_transaction": Threshold(warning: 300, critical: 1800),
        "worker_rss": Threshold(warning: 1024, critical: 4096),
        "last_batch_age": Threshold(),
        "memory_selftest_errors": Threshold(critical: 1),
    ]
}
