import Foundation
import RapportSupport
import RapportPostgres
import Synchronization

/// Outside programs (pg_dump, smartctl, nvidia-smi): found on PATH or where Debian puts them, run to the end.
public enum ExternalTool {
    /// PATH, then /usr/sbin and /sbin (smartctl), then each PostgreSQL version's bin directory, newest first.
    public static func locate(_ name: String) -> String? {
        var dirs: [String] = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        dirs += ["/usr/sbin", "/sbin"]
        let versions: [String] = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        dirs += versions.sorted(by: >).map { "/usr/lib/postgresql/" + $0 + "/bin" }
        return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `name` with `arguments`; nil when it is not installed or cannot start.
    public static func run(_ name: String, _ arguments: [String]) -> (status: Int32, output: String, errors: String)? {
        guard let path = Self.locate(name) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { return nil }
        // Read both pipes while it runs, so neither fills up and stalls the tool.
        let errors = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            group.leave()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }
}
