import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding

/// `rapport run --only ingest` as a child process, for crash and signal tests.
public final class WorkerProcess: @unchecked Sendable {
    public let process = Process()

    /// Where its standard error goes, when asked for.
    public let log: URL?

    /// Starts `rapport run --only ingest` against `env`; `overrides` replace environment variables
    /// (e.g. a server URL that does not answer yet), and `captureLog` keeps standard error in a file.
    /// `services`: what `rapport run --only` starts (ingest by default).
    public init(env: TestEnvironment, overrides: [String: String] = [:], captureLog: Bool = false, services: String = "ingest") throws {
        let bin = ProcessInfo.processInfo.environment["RAPPORT_BIN"]
            ?? TestEnvironment.repoRoot.appendingPathComponent(".build/debug/rapport").path
        self.process.executableURL = URL(fileURLWithPath: bin)
        self.process.arguments = ["run", "--only", services]
        var e = ProcessInfo.processInfo.environment
        e["RAPPORT_AMQP_URL"] = env.settings.amqpURL
        e["RAPPORT_PG_URL"] = env.settings.postgresURL
        e["RAPPORT_KEK_FILE"] = env.settings.kekFile
        e["RAPPORT_TOPOLOGY"] = env.settings.topologyPath
        e["RAPPORT_CONNECTORS"] = env.settings.connectorsPath
        e["RAPPORT_BATCH_SIZE"] = String(env.settings.batchSize)
        e["RAPPORT_PREFETCH"] = String(env.settings.prefetch)
        e["RAPPORT_LOG_LEVEL"] = "warning"
        e["RAPPORT_METRICS_PORT"] = "0"  // several of these run at once
        e.merge(overrides) { _, new in new }
        self.process.environment = e
        self.process.standardOutput = FileHandle.nullDevice
        if captureLog {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-worker-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            self.process.standardError = try FileHandle(forWritingTo: log)
            self.log = log
        } else {
            self.log = nil
        }
        try self.process.run()
    }

    /// What it has written to standard error so far (empty without `captureLog`).
    public var logText: String {
        self.log.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
    }

    public var isRunning: Bool { self.process.isRunning }

    public func kill9() {
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGTERM)
            self.process.waitUntilExit()
        }
        return self.process.terminationStatus
    }
}
