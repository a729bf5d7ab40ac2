import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads files under a root directory, so tests can point checks at a fixture tree instead of `/`.
public struct FileSource: Sendable {
    public let root: URL

    public init(root: String = "/") { self.root = URL(fileURLWithPath: root) }

    public func text(_ path: String) -> String? {
        try? String(contentsOf: self.root.appendingPathComponent(path), encoding: .utf8)
    }

    public func number(_ path: String) -> Double? {
        self.text(path).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    public func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: self.root.appendingPathComponent(path).path)) ?? []).sorted()
    }
}

/// CPU temperature from thermal zones (`/sys/class/thermal/thermal_zone*/temp`) and hwmon
/// (`/sys/class/hwmon/hwmon*/temp*_input`), in °C.
public struct CPUTemperatureCheck: HealthCheck {
    public let name = "cpu_temperature", category = "hardware"
    let files: FileSource
    public init(files: FileSource = FileSource()) { self.files = files }

    public func run() -> CheckOutcome {
        var readings: [Reading] = []
        for zone in self.files.list("sys/class/thermal") where zone.hasPrefix("thermal_zone") {
            guard let milli = self.files.number("sys/class/thermal/\(zone)/temp") else { continue }
            let type = self.files.text("sys/class/thermal/\(zone)/type")?.trimmingCharacters(in: .whitespacesAndNewlines)
            readings.append(Reading(check: self.name, category: self.category, subject: zone, value: milli / 1000, unit: "°C", detail: type))
        }
        for hw in self.files.list("sys/class/hwmon") {
            let chip = self.files.text("sys/class/hwmon/\(hw)/name")?.trimmingCharacters(in: .whitespacesAndNewlines)
            for f in self.files.list("sys/class/hwmon/\(hw)") where f.hasPrefix("temp") && f.hasSuffix("_input") {
                guard let milli = self.files.number("sys/class/hwmon/\(hw)/\(f)") else { continue }
                let label = self.files.text("sys/class/hwmon/\(hw)/\(f.replacingOccurrences(of: "_input", with: "_label"))")?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                readings.append(Reading(check: self.name, category: self.category, subject: "\(hw)/\(f.dropLast(6))",
                                        value: milli / 1000, unit: "°C", detail: [chip, label].compactMap { $0 }.joined(separator: " ")))
            }
        }
        return readings.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "no thermal zones or hwmon temperature sensors")
            : .readings(readings)
    }
}

/// CPU and board voltages from hwmon `in*_input` (millivolts), in volts. Reported, not judged by
/// default: the right range depends on the rail.
public struct CPUVoltageCheck: HealthCheck {
    public let name = "cpu_voltage", category = "hardware"
    let files: FileSource
    public init(files: FileSource = FileSource()) { self.files = files }

    public func run() -> CheckOutcome {
        var readings: [Reading] = []
        for hw in self.files.list("sys/class/hwmon") {
            for f in self.files.list("sys/class/hwmon/\(hw)") where f.hasPrefix("in") && f.hasSuffix("_input") {
                guard let milli = self.files.number("sys/class/hwmon/\(hw)/\(f)") else { continue }
                let label = self.files.text("sys/class/hwmon/\(hw)/\(f.replacingOccurrences(of: "_input", with: "_label"))")?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                readings.append(Reading(check: self.name, category: self.category, subject: "\(hw)/\(f.dropLast(6))",
                                        value: milli / 1000, unit: "V", detail: label))
            }
        }
        return readings.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "no hwmon voltage sensors") : .readings(readings)
    }
}

/// Load average per core (1 minute) and the CPU count.
public struct LoadCheck: HealthCheck {
    public let name = "load_per_core", category = "system"
    let files: FileSource
    let cores: Int
    public init(files: FileSource = FileSource(), cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.files = files
        self.cores = max(1, cores)
    }

    public func run() -> CheckOutcome {
        guard let text = self.files.text("proc/loadavg"), let load1 = text.split(separator: " ").first.flatMap({ Double($0) }) else {
            return .unavailable(check: self.name, category: self.category, reason: "no /proc/loadavg")
        }
        return .readings([Reading(check: self.name, category: self.category, value: (load1 / Double(self.cores) * 100).rounded() / 100,
                                  unit: "load/core", detail: "load1 \(load1) on \(self.cores) cores")])
    }
}

/// CPU busy share over an interval, from two samples of the `cpu` line of `/proc/stat` (the previous
/// poll's, or one taken `sampleInterval` earlier on the first run).
public final class CPUUseCheck: HealthCheck, @unchecked Sendable {
    public let name = "cpu_used", category = "system"
    let files: FileSource
    let sampleInterval: TimeInterval
    private let lock = NSLock()
    private var previous: (busy: Double, total: Double)?

    public init(files: FileSource = FileSource(), sampleInterval: TimeInterval = 0.2) {
        self.files = files
        self.sampleInterval = sampleInterval
    }

    /// Busy and total jiffies from `/proc/stat` text.
    public static func sample(_ stat: String) -> (busy: Double, total: Double)? {
        guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard v.count >= 4 else { return nil }
        let idle = v[3] + (v.count > 4 ? v[4] : 0)  // idle + iowait
        let total = v.prefix(8).reduce(0, +)       // without guest time, which user time already counts
        return (total - idle, total)
    }

    public func run() -> CheckOutcome {
        guard let first = self.files.text("proc/stat").flatMap(Self.sample) else {
            return .unavailable(check: self.name, category: self.category, reason: "no /proc/stat")
        }
        var before = self.lock.withLock { self.previous }
        var now = first
        if before == nil {
            before = first
            Thread.sleep(forTimeInterval: self.sampleInterval)
            now = self.files.text("proc/stat").flatMap(Self.sample) ?? first
        }
        self.lock.withLock { self.previous = now }
        let dTotal = now.total - before!.total
        let used = dTotal > 0 ? (now.busy - before!.busy) / dTotal * 100 : 0
        return .readings([Reading(check: self.name, category: self.category, value: (used * 10).rounded() / 10, unit: "%")])
    }
}

/// Available memory and swap in use, in percent, from `/proc/meminfo`.
public struct MemoryCheck: HealthCheck {
    public let name = "memory", category = "system"
    let files: FileSource
    public init(files: FileSource = FileSource()) { self.files = files }

    public static func parse(_ meminfo: String) -> [String: Double] {
        var kb: [String: Double] = [:]
        for line in meminfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let v = Double(parts[1].split(whereSeparator: \.isWhitespace).first ?? "") else { continue }
            kb[String(parts[0])] = v
        }
        return kb
    }

    public func run() -> CheckOutcome {
        guard let text = self.files.text("proc/meminfo") else { return .unavailable(check: self.name, category: self.category, reason: "no /proc/meminfo") }
        let kb = Self.parse(text)
        guard let total = kb["MemTotal"], total > 0, let available = kb["MemAvailable"] else {
            return .unavailable(check: self.name, category: self.category, reason: "/proc/meminfo lacks MemTotal or MemAvailable")
        }
        var out = [Reading(check: "memory_available", category: self.category, value: (available / total * 1000).rounded() / 10, unit: "%",
                           detail: "\(Int(available / 1024)) of \(Int(total / 1024)) MiB available")]
        if let swapTotal = kb["SwapTotal"], let swapFree = kb["SwapFree"], swapTotal > 0 {
            out.append(Reading(check: "swap_used", category: self.category, value: ((swapTotal - swapFree) / swapTotal * 1000).rounded() / 10,
                               unit: "%", detail: "\(Int((swapTotal - swapFree) / 1024)) of \(Int(swapTotal / 1024)) MiB"))
        }
        return .readings(out)
    }
}

/// Space and inodes used per mounted local file system, in percent.
public struct DiskSpaceCheck: HealthCheck {
    public let name = "disk_space", category = "system"
    let files: FileSource
    /// statvfs, replaceable in tests: (blocks, free blocks for users, inodes, free inodes).
    let stat: @Sendable (String) -> (blocks: Double, available: Double, free: Double, inodes: Double, freeInodes: Double)?
    static let localTypes: Set<String> = ["ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "ntfs", "overlay"]

    public init(files: FileSource = FileSource(),
                stat: @escaping @Sendable (String) -> (blocks: Double, available: Double, free: Double, inodes: Double, freeInodes: Double)? = DiskSpaceCheck.fileSystemStats) {
        self.files = files
        self.stat = stat
    }

    public static func fileSystemStats(_ path: String) -> (blocks: Double, available: Double, free: Double, inodes: Double, freeInodes: Double)? {
        // Swift cannot call statvfs() (its struct has the same name), so fstatvfs on the mount point.
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var s = statvfs()
        guard fstatvfs(fd, &s) == 0, s.f_blocks > 0 else { return nil }
        let unit = Double(s.f_frsize)
        return (Double(s.f_blocks) * unit, Double(s.f_bavail) * unit, Double(s.f_bfree) * unit, Double(s.f_files), Double(s.f_ffree))
    }

    public func run() -> CheckOutcome {
        guard let mounts = self.files.text("proc/mounts") else { return .unavailable(check: self.name, category: self.category, reason: "no /proc/mounts") }
        var seen = Set<String>(), out: [Reading] = []
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3, Self.localTypes.contains(String(f[2])) else { continue }
            let path = String(f[1]).replacingOccurrences(of: "\\040", with: " ")
            guard seen.insert(String(f[0])).inserted, let s = self.stat(path) else { continue }
            // Like df: used / (used + available to users).
            let used = s.blocks - s.free
            out.append(Reading(check: "disk_space_used", category: self.category, subject: path,
                               value: ((used / max(used + s.available, 1)) * 1000).rounded() / 10, unit: "%",
                               detail: "\(Int(s.available / 1_048_576)) MiB free of \(Int(s.blocks / 1_048_576))"))
            if s.inodes > 0 {
                out.append(Reading(check: "disk_inodes_used", category: self.category, subject: path,
                                   value: (((s.inodes - s.freeInodes) / s.inodes) * 1000).rounded() / 10, unit: "%"))
            }
        }
        return out.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "no local file systems mounted") : .readings(out)
    }
}

/// On demand: a memtester-style pattern test of a buffer of `megabytes`, within `seconds`.
public struct MemorySelfTest: HealthCheck {
    public let name = "memory_selftest", category = "hardware"
    let megabytes: Int
    let seconds: Double
    public init(megabytes: Int = 64, seconds: Double = 10) {
        self.megabytes = max(1, min(megabytes, 4096))
        self.seconds = seconds
    }

    public func run() -> CheckOutcome {
        let count = self.megabytes * 1_048_576 / 8
        let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        defer { buffer.deallocate() }
        let deadline = Date() + self.seconds
        var errors = 0, passes = 0
        let patterns: [(String, (Int) -> UInt64)] = [
            ("zeros", { _ in 0 }), ("ones", { _ in ~0 }), ("0x55", { _ in 0x5555_5555_5555_5555 }), ("0xAA", { _ in 0xAAAA_AAAA_AAAA_AAAA }),
            ("address", { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }), ("walking ones", { 1 << UInt64($0 % 64) }),
        ]
        for (_, pattern) in patterns where Date() < deadline {
            for i in 0..<count { buffer[i] = pattern(i) }
            for i in 0..<count where buffer[i] != pattern(i) { errors += 1 }
            passes += 1
        }
        return .readings([Reading(check: "memory_selftest_errors", category: self.category, value: Double(errors), unit: "errors",
                                  detail: "\(passes) of \(patterns.count) patterns over \(self.megabytes) MiB")])
    }
}

/// On demand: write then read back a temporary file of `megabytes` in `directory` (fsync'd, so the
/// write speed is the disk's, not the page cache's), in MB/s.
public struct DiskSpeedTest: HealthCheck {
    public let name = "disk_speed", category = "hardware"
    let directory: String
    let megabytes: Int
    public init(directory: String = NSTemporaryDirectory(), megabytes: Int = 256) {
        self.directory = directory
        self.megabytes = max(1, min(megabytes, 8192))
    }

    public func run() -> CheckOutcome {
        let path = (self.directory as NSString).appendingPathComponent("rapport-speedtest-\(getpid()).tmp")
        defer { unlink(path) }
        let chunk = [UInt8](repeating: 0xA5, count: 1_048_576)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { return .unavailable(check: self.name, category: self.category, reason: "cannot write in \(self.directory)") }
        var t0 = Date()
        for _ in 0..<self.megabytes { _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        fsync(fd)
        close(fd)
        let writeMBs = Double(self.megabytes) / max(Date().timeIntervalSince(t0), 1e-6)
        // Drop the file from the page cache so the read comes from the disk.
        let rfd = open(path, O_RDONLY)
        guard rfd >= 0 else { return .unavailable(check: self.name, category: self.category, reason: "cannot read back \(path)") }
        posix_fadvise(rfd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        var buffer = [UInt8](repeating: 0, count: 1_048_576)
        t0 = Date()
        while buffer.withUnsafeMutableBytes({ read(rfd, $0.baseAddress, $0.count) }) > 0 {}
        close(rfd)
        let readMBs = Double(self.megabytes) / max(Date().timeIntervalSince(t0), 1e-6)
        return .readings([
            Reading(check: "disk_write_speed", category: self.category, subject: self.directory, value: writeMBs.rounded(), unit: "MB/s"),
            Reading(check: "disk_read_speed", category: self.category, subject: self.directory, value: readMBs.rounded(), unit: "MB/s"),
        ])
    }
}

/// On demand: read a file or block device end to end (read-only), counting unreadable 1 MiB chunks.
public struct SurfaceScan: HealthCheck {
    public let name = "disk_surface", category = "hardware"
    let path: String
    let maxBytes: Int64?
    public init(path: String, maxBytes: Int64? = nil) {
        self.path = path
        self.maxBytes = maxBytes
    }

    public func run() -> CheckOutcome {
        let fd = open(self.path, O_RDONLY)
        guard fd >= 0 else { return .unavailable(check: self.name, category: self.category, reason: "cannot open \(self.path) for reading") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1_048_576)
        var offset: Int64 = 0, bad = 0
        let t0 = Date()
        while self.maxBytes.map({ offset < $0 }) ?? true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n == 0 { break }
            if n < 0 {
                bad += 1
                offset += Int64(buffer.count)  // skip the unreadable chunk
                continue
            }
            offset += Int64(n)
        }
        let seconds = max(Date().timeIntervalSince(t0), 1e-6)
        return .readings([Reading(check: "disk_surface_errors", category: self.category, subject: self.path, value: Double(bad), unit: "chunks",
                                  detail: "\(offset / 1_048_576) MiB read at \(Int(Double(offset) / 1_048_576 / seconds)) MB/s")])
    }
}
