import Foundation
import RapportMonitor
import RapportCore
import RapportSupport
import Testing

/// A sysfs/procfs-like tree in a temporary directory.
final class FixtureTree {
    let root: URL
    init(_ files: [String: String]) throws {
        self.root = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-fixture-\(UUID().uuidString)")
        for (path, content) in files {
            let url = self.root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
    }
    var source: FileSource { FileSource(root: self.root.path) }
    deinit { try? FileManager.default.removeItem(at: self.root) }
}

func fixture(_ name: String) throws -> String {
    try String(contentsOf: Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!, encoding: .utf8)
}

func readings(_ outcome: CheckOutcome) -> [Reading] {
    if case .readings(let r) = outcome { return r }
    return []
}

func isUnavailable(_ outcome: CheckOutcome) -> Bool {
    if case .unavailable = outcome { return true }
    return false
}

struct SysfsChecksTests {
    @Test func cpuTemperatureFromThermalZonesAndHwmon() throws {
        let tree = try FixtureTree([
            "sys/class/thermal/thermal_zone0/temp": "45500\n", "sys/class/thermal/thermal_zone0/type": "x86_pkg_temp\n",
            "sys/class/thermal/cooling_device0/type": "Processor\n",
            "sys/class/hwmon/hwmon1/name": "coretemp\n", "sys/class/hwmon/hwmon1/temp1_input": "97000\n",
            "sys/class/hwmon/hwmon1/temp1_label": "Package id 0\n", "sys/class/hwmon/hwmon1/in0_input": "1184\n",
        ])
        let r = readings(CPUTemperatureCheck(files: tree.source).run())
        #expect(r.map(\.value) == [45.5, 97])
        #expect(r.map(\.subject) == ["thermal_zone0", "hwmon1/temp1"])
        #expect(r[1].detail == "coretemp Package id 0")
        #expect(Threshold(warning: 80, critical: 95).status(of: r[1].value) == .critical)
        let v = readings(CPUVoltageCheck(files: tree.source).run())
        #expect(v.map(\.value) == [1.184] && v[0].unit == "V")
    }

    @Test func noSensorsIsUnavailableNotAnError() throws {
        let empty = try FixtureTree(["proc/loadavg": "0.50 0.40 0.30 1/100 999\n"])
        #expect(isUnavailable(CPUTemperatureCheck(files: empty.source).run()))
        #expect(isUnavailable(CPUVoltageCheck(files: empty.source).run()))
        #expect(isUnavailable(MemoryCheck(files: empty.source).run()))
        #expect(isUnavailable(DiskSpaceCheck(files: empty.source).run()))
        #expect(readings(LoadCheck(files: empty.source, cores: 2).run()).first?.value == 0.25)
    }

    @Test func cpuUseFromTwoSamplesOfProcStat() throws {
        let tree = try FixtureTree(["proc/stat": "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"])
        #expect(CPUUseCheck.sample("cpu  100 0 100 800 0 0 0 0 0 0\n")! == (busy: 200, total: 1000))
        let check = CPUUseCheck(files: tree.source, sampleInterval: 0)
        #expect(readings(check.run()).first?.value == 0)  // no time passed between the first two samples
        try "cpu  400 0 200 900 0 0 0 0 0 0\n".write(to: tree.root.appendingPathComponent("proc/stat"), atomically: true, encoding: .utf8)
        #expect(readings(check.run()).first?.value == 80)  // 400 of 500 jiffies busy since the last poll
        #expect(isUnavailable(CPUUseCheck(files: try FixtureTree([:]).source).run()))
    }

    @Test func workerRSSFromProcSelfStatus() throws {
        let tree = try FixtureTree(["proc/self/status": "Name:\trapport\nVmHWM:\t  310000 kB\nVmRSS:\t  204800 kB\n"])
        let r = readings(WorkerCheck(url: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", files: tree.source).run())
        #expect(r.map(\.check) == ["worker_rss"] && r.first?.value == 200)
    }

    @Test func memoryAndSwapFromMeminfo() throws {
        let tree = try FixtureTree(["proc/meminfo": """
            MemTotal:       16000000 kB
            MemFree:          500000 kB
            MemAvailable:     640000 kB
            SwapTotal:       2000000 kB
            SwapFree:         200000 kB
            """])
        let r = readings(MemoryCheck(files: tree.source).run())
        #expect(r.map(\.check) == ["memory_available", "swap_used"])
        #expect(r.map(\.value) == [4, 90])
        #expect(DefaultThresholds.all["memory_available"]!.status(of: 4) == .critical)
    }

    @Test func diskSpaceAndInodesPerLocalMount() throws {
        let tree = try FixtureTree(["proc/mounts": """
            /dev/vda1 / ext4 rw,relatime 0 0
            proc /proc proc rw 0 0
            /dev/vdb1 /var/lib/postgresql xfs rw 0 0
            tmpfs /run tmpfs rw 0 0
            """])
        let check = DiskSpaceCheck(files: tree.source) { path in
            path == "/" ? (blocks: 100, available: 40, free: 45, inodes: 1000, freeInodes: 900)
                : (blocks: 100, available: 3, free: 3, inodes: 1000, freeInodes: 10)
        }
        let r = readings(check.run())
        #expect(r.map(\.subject) == ["/", "/", "/var/lib/postgresql", "/var/lib/postgresql"])
        #expect(r.filter { $0.check == "disk_space_used" }.map(\.value) == [57.9, 97])  // like df: used / (used + available)
        #expect(r.filter { $0.check == "disk_inodes_used" }.map(\.value) == [10, 99])
    }

    @Test func onDemandTestsRunBounded() throws {
        #expect(readings(MemorySelfTest(megabytes: 2, seconds: 5).run()).first?.value == 0)
        let dir = FileManager.default.temporaryDirectory.path
        let speed = readings(DiskSpeedTest(directory: dir, megabytes: 4).run())
        #expect(speed.map(\.check) == ["disk_write_speed", "disk_read_speed"])
        #expect(speed.allSatisfy { ($0.value ?? 0) > 0 })
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-scan-\(UUID().uuidString)")
        try Data(repeating: 7, count: 3_000_000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let scan = readings(SurfaceScan(path: file.path).run())
        #expect(scan.first?.value == 0 && scan.first?.detail?.hasPrefix("2 MiB read") == true)
        #expect(isUnavailable(SurfaceScan(path: "/nonexistent/device").run()))
    }
}

struct ToolChecksTests {
    static let smart = ToolRunner { tool, args in
        guard tool == "smartctl" else { return nil }
        if args.contains("--scan") { return (0, try! fixture("smartctl-scan.json")) }
        if args.last == "/dev/sda" { return (0, try! fixture("smartctl-sda.json")) }
        return (4, try! fixture("smartctl-nvme0.json"))
    }

    @Test func smartAttributesOfAtaAndNvmeDisks() {
        let engine = AlertEngine(host: "h")
        let r = readings(SmartCheck(tools: Self.smart).run())
        func value(_ check: String, _ dev: String) -> Double? { r.first { $0.check == check && $0.subject == dev }?.value }
        #expect(value("disk_smart_failed", "/dev/sda") == 0)
        #expect(value("disk_reallocated_sectors", "/dev/sda") == 8)
        #expect(value("disk_pending_sectors", "/dev/sda") == 0)
        #expect(value("disk_temperature", "/dev/sda") == 41)
        #expect(value("disk_smart_failed", "/dev/nvme0") == 1)
        #expect(value("disk_wear_used", "/dev/nvme0") == 97)
        #expect(value("disk_pending_sectors", "/dev/nvme0") == 12)
        #expect(r.filter { engine.severity(of: $0) == .critical }.map(\.check).sorted()
                == ["disk_pending_sectors", "disk_smart_failed", "disk_temperature", "disk_wear_used"])
        #expect(r.first { $0.check == "disk_reallocated_sectors" }.map(engine.severity) == .warning)
    }

    @Test func missingToolsAndEmptyScansAreUnavailable() {
        #expect(isUnavailable(SmartCheck(tools: ToolRunner { _, _ in nil }).run()))
        #expect(isUnavailable(SmartCheck(tools: ToolRunner { _, _ in (0, #"{"devices": []}"#) }).run()))
        #expect(isUnavailable(GPUCheck(tools: ToolRunner { _, _ in nil }).run()))
        #expect(isUnavailable(GPUCheck(tools: ToolRunner { _, _ in (9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") }).run()))
    }

    @Test func gpuFromRealH100Output() throws {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures/hardware/nvidia-h100/nvidia-smi-query.csv")
        let csv = try String(contentsOf: shared, encoding: .utf8)
        let r = readings(GPUCheck(tools: ToolRunner { _, _ in (0, csv) }).run())
        func value(_ check: String) -> Double? { r.first { $0.check == check }?.value }
        #expect(value("gpu_temperature") == 37)
        #expect(value("gpu_power") == 71.77)
        #expect(value("gpu_memory_used") == 0)
        #expect(value("gpu_ecc_uncorrected") == 0)
        #expect(value("gpu_thermal_throttle") == 0)
        #expect(r.allSatisfy { $0.subject == "gpu0" })
        #expect(r.first?.detail == "NVIDIA H100 80GB HBM3")
    }

    @Test func aHotThrottlingGPUWithEccErrors() {
        let csv = """
            index, name, temperature.gpu, power.draw [W], memory.used [MiB], memory.total [MiB], ecc.errors.uncorrected.volatile.total, clocks_event_reasons.hw_thermal_slowdown, clocks_event_reasons.sw_thermal_slowdown
            0, NVIDIA H100 80GB HBM3, 91, 690.10 W, 80000 MiB, 81559 MiB, 2, Active, Not Active
            1, NVIDIA H100 80GB HBM3, 40, [N/A], 10 MiB, 81559 MiB, [N/A], Not Active, Not Active
            """
        let engine = AlertEngine(host: "h")
        let r = GPUCheck.parse(csv)
        let critical = r.filter { engine.severity(of: $0) == .critical }.map { "\($0.subject!):\($0.check)" }
        #expect(critical == ["gpu0:gpu_temperature", "gpu0:gpu_ecc_uncorrected"])
        #expect(r.first { $0.check == "gpu_thermal_throttle" && $0.subject == "gpu0" }?.detail == "hw_thermal_slowdown")
        #expect(r.filter { $0.subject == "gpu1" }.map(\.check) == ["gpu_temperature", "gpu_memory_used", "gpu_thermal_throttle"])
    }
}

struct BrokerAndAlertTests {
    @Test func managementAPIJson() throws {
        let r = BrokerCheck.parse(queues: try fixture("mgmt-queues.json"), connections: try fixture("mgmt-connections.json"))
        let engine = AlertEngine(host: "h")
        func find(_ check: String, _ subject: String? = nil) -> Reading? { r.first { $0.check == check && $0.subject == subject } }
        #expect(find("broker_reachable")?.value == 1)
        #expect(find("queue_ready", "rapport.inbound.webform").map(engine.severity) == .warning)
        #expect(find("queue_growth", "rapport.inbound.webform")?.value == 812.4)
        #expect(find("queue_consumers", "rapport.inbound.ads").map(engine.severity) == .critical)
        #expect(find("dead_letters_waiting", "rapport.dead")?.value == 3)
        #expect(find("connection_blocked").map(engine.severity) == .critical)
        #expect(!r.contains { $0.subject == "someone.else" })
        // Unreachable: one reading that says so, which is critical.
        let down = readings(BrokerCheck(managementURL: "http://127.0.0.1:1", fetch: { _ in throw MiniHTTP.Failure(.network, description: "refused") }).run())
        #expect(down.map(\.check) == ["broker_reachable"] && down.first.map(engine.severity) == .critical)
    }

    @Test func aBreachMustHoldForItsConfirmations() {
        let engine = AlertEngine(host: "h", thresholds: ["queue_consumers": Threshold(critical: 0, lowerIsWorse: true)], confirmations: 2)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func consumers(_ n: Double) -> [Reading] { [Reading(check: "queue_consumers", category: "broker", subject: "q", value: n, unit: "")] }
        #expect(engine.evaluate(consumers(0), now: t0).isEmpty)        // the worker is still starting
        #expect(engine.evaluate(consumers(2), now: t0 + 30).isEmpty)   // it did: nothing, and nothing to resolve
        #expect(engine.evaluate(consumers(0), now: t0 + 60).isEmpty)
        #expect(engine.evaluate(consumers(0), now: t0 + 90).map(\.status) == ["firing"])
        #expect(engine.evaluate(consumers(2), now: t0 + 120).map(\.status) == ["resolved"])
    }

    @Test func alertsFireOnTransitionsRemindAndResolveOnce() {
        let engine = AlertEngine(host: "db1", thresholds: ["gpu_temperature": Threshold(warning: 83, critical: 90)], renotify: 600)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func temp(_ v: Double) -> [Reading] { [Reading(check: "gpu_temperature", category: "hardware", subject: "gpu0", value: v, unit: "°C")] }
        #expect(engine.evaluate(temp(70), now: t0).isEmpty)
        let first = engine.evaluate(temp(92), now: t0 + 10)
        #expect(first.map(\.routingKey) == ["alert.critical.hardware.gpu_temperature"])
        #expect(first.first?.threshold == 90 && first.first?.status == "firing")
        #expect(engine.evaluate(temp(93), now: t0 + 40).isEmpty)        // still critical: no repeat
        let reminder = engine.evaluate(temp(93), now: t0 + 700)         // … until the re-notify interval
        #expect(reminder.map(\.notification) == [2] && reminder.first?.firstSeen == t0 + 10)
        let down = engine.evaluate(temp(85), now: t0 + 710)             // critical → warning: a new alert
        #expect(down.map(\.routingKey) == ["alert.warning.hardware.gpu_temperature"])
        let resolved = engine.evaluate(temp(60), now: t0 + 720)
        #expect(resolved.map(\.status) == ["resolved"])
        #expect(resolved.first?.routingKey == "alert.warning.hardware.gpu_temperature")
        #expect(resolved.first?.firstSeen == t0 + 10)
        #expect(engine.evaluate(temp(60), now: t0 + 730).isEmpty)
        // The JSON has what ops need.
        let json = first[0].json.objectValue!
        for key in ["host", "check", "severity", "value", "threshold", "unit", "first_seen", "fingerprint", "status"] { #expect(json[key] != nil) }
    }
}
