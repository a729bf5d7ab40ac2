import Foundation
import RapportRuntime
import RapportSupport

/// Runs an outside tool and returns its exit status and standard output; replaceable in tests.
public struct ToolRunner: Sendable {
    public let run: @Sendable (_ tool: String, _ arguments: [String]) -> (status: Int32, output: String)?

    public init(_ run: @escaping @Sendable (_ tool: String, _ arguments: [String]) -> (status: Int32, output: String)?) { self.run = run }

    /// Finds the tool on PATH (plus /usr/sbin and /sbin, where smartctl lives) and runs it; `nil` when
    /// it is not installed.
    public static let system = ToolRunner { tool, arguments in
        ExternalTool.run(tool, arguments).map { ($0.status, $0.output) }
    }
}

/// SMART health and key attributes of every disk `smartctl --scan` finds, from `smartctl --json -a`.
public struct SmartCheck: HealthCheck {
    public let name = "disk_smart", category = "hardware"
    let tools: ToolRunner
    public init(tools: ToolRunner = .system) { self.tools = tools }

    public func run() -> CheckOutcome {
        guard let scan = self.tools.run("smartctl", ["--scan", "--json"]) else {
            return .unavailable(check: self.name, category: self.category, reason: "smartctl is not installed (Debian: smartmontools)")
        }
        guard let devices = (try? JSONValue.parse(Array(scan.output.utf8)))?.objectValue?["devices"], case .array(let list) = devices,
              !list.isEmpty else {
            return .unavailable(check: self.name, category: self.category, reason: "smartctl found no disks (a virtual machine?)")
        }
        var out: [Reading] = []
        for d in list {
            guard let dev = d.objectValue?["name"]?.stringValue else { continue }
            var args = ["--json", "-a", dev]
            if let type = d.objectValue?["type"]?.stringValue { args = ["--json", "-a", "-d", type, dev] }
            guard let r = self.tools.run("smartctl", args) else { continue }
            out += Self.parse(r.output, device: dev)
        }
        return out.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "smartctl gave no SMART data") : .readings(out)
    }

    /// Readings from one `smartctl --json -a` document (ATA or NVMe).
    public static func parse(_ json: String, device: String) -> [Reading] {
        guard let o = (try? JSONValue.parse(Array(json.utf8)))?.objectValue else { return [] }
        func num(_ v: JSONValue?) -> Double? { if case .number(let d)? = v { return d } else { return nil } }
        var out: [Reading] = []
        let model = o["model_name"]?.stringValue
        if case .bool(let passed)? = o["smart_status"]?.objectValue?["passed"] {
            out.append(Reading(check: "disk_smart_failed", category: "hardware", subject: device, value: passed ? 0 : 1, unit: "",
                               detail: (passed ? "PASSED" : "FAILED") + (model.map { " (\($0))" } ?? "")))
        }
        if let t = num(o["temperature"]?.objectValue?["current"]) {
            out.append(Reading(check: "disk_temperature", category: "hardware", subject: device, value: t, unit: "°C"))
        }
        if case .array(let table)? = o["ata_smart_attributes"]?.objectValue?["table"] {
            for a in table {
                guard let attr = a.objectValue, let id = num(attr["id"]), let raw = num(attr["raw"]?.objectValue?["value"]) else { continue }
                switch Int(id) {
                case 5: out.append(Reading(check: "disk_reallocated_sectors", category: "hardware", subject: device, value: raw, unit: "sectors"))
                case 197: out.append(Reading(check: "disk_pending_sectors", category: "hardware", subject: device, value: raw, unit: "sectors"))
                case 177, 231, 233:
                    // SSD wear: normalised value counts down from 100.
                    if let v = num(attr["value"]) { out.append(Reading(check: "disk_wear_used", category: "hardware", subject: device, value: 100 - v, unit: "%")) }
                default: break
                }
            }
        }
        if let nvme = o["nvme_smart_health_information_log"]?.objectValue {
            if let used = num(nvme["percentage_used"]) {
                out.append(Reading(check: "disk_wear_used", category: "hardware", subject: device, value: used, unit: "%"))
            }
            if let media = num(nvme["media_errors"]) {
                out.append(Reading(check: "disk_pending_sectors", category: "hardware", subject: device, value: media, unit: "media errors"))
            }
        }
        return out
    }
}

/// GPU temperature, power, memory, uncorrected ECC errors and thermal throttling from
/// `nvidia-smi --query-gpu=… --format=csv`.
public struct GPUCheck: HealthCheck {
    public let name = "gpu", category = "hardware"
    let tools: ToolRunner
    public static let fields = ["index", "name", "temperature.gpu", "power.draw", "power.limit", "memory.used", "memory.total",
                                "ecc.errors.uncorrected.volatile.total", "clocks_event_reasons.hw_thermal_slowdown",
                                "clocks_event_reasons.sw_thermal_slowdown", "utilization.gpu"]
    public init(tools: ToolRunner = .system) { self.tools = tools }

    public func run() -> CheckOutcome {
        guard let r = self.tools.run("nvidia-smi", ["--query-gpu=" + Self.fields.joined(separator: ","), "--format=csv"]) else {
            return .unavailable(check: self.name, category: self.category, reason: "nvidia-smi is not installed (no NVIDIA GPU)")
        }
        guard r.status == 0 else { return .unavailable(check: self.name, category: self.category, reason: "nvidia-smi failed (exit \(r.status)): no GPU or no driver") }
        let readings = Self.parse(r.output)
        return readings.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "nvidia-smi listed no GPUs") : .readings(readings)
    }

    /// Parses `--format=csv` output (a header naming the fields, with units like `[W]`), whatever the
    /// field order; `[N/A]` and `Not Supported` become no value.
    public static func parse(_ csv: String) -> [Reading] {
        let lines = csv.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = lines.first else { return [] }
        let keys = header.map { h in String(h.split(separator: " ").first ?? "") }
        var out: [Reading] = []
        for row in lines.dropFirst() where row.count == keys.count {
            let f = Dictionary(zip(keys, row), uniquingKeysWith: { a, _ in a })
            func num(_ k: String) -> Double? {
                f[k].flatMap { Double($0.split(separator: " ").first ?? "") }
            }
            let gpu = "gpu" + (f["index"] ?? "?")
            let name = f["name"]
            if let t = num("temperature.gpu") { out.append(Reading(check: "gpu_temperature", category: "hardware", subject: gpu, value: t, unit: "°C", detail: name)) }
            if let p = num("power.draw") {
                out.append(Reading(check: "gpu_power", category: "hardware", subject: gpu, value: p, unit: "W", detail: num("power.limit").map { "limit \($0) W" }))
            }
            if let used = num("memory.used"), let total = num("memory.total"), total > 0 {
                out.append(Reading(check: "gpu_memory_used", category: "hardware", subject: gpu, value: (used / total * 1000).rounded() / 10, unit: "%",
                                   detail: "\(Int(used)) of \(Int(total)) MiB"))
            }
            if let ecc = num("ecc.errors.uncorrected.volatile.total") {
                out.append(Reading(check: "gpu_ecc_uncorrected", category: "hardware", subject: gpu, value: ecc, unit: "errors"))
            }
            let throttles = ["clocks_event_reasons.hw_thermal_slowdown", "clocks_event_reasons.sw_thermal_slowdown"].filter { f[$0] == "Active" }
            if f["clocks_event_reasons.hw_thermal_slowdown"] != nil {
                out.append(Reading(check: "gpu_thermal_throttle", category: "hardware", subject: gpu, value: throttles.isEmpty ? 0 : 1, unit: "",
                                   detail: throttles.isEmpty ? "not throttled" : throttles.map { String($0.split(separator: ".").last!) }.joined(separator: ", ")))
            }
        }
        return out
    }
}
