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

    public init(env: TestEnvironment) throws {
        let bin = ProcessInfo.processInfo.environment["RAPPORT_BIN"]
            ?? TestEnvironment.repoRoot.appendingPathComponent(".build/debug/rapport").path
        self.process.executableURL = URL(fileURLWithPath: bin)
        self.process.arguments = ["run", "--only", "ingest"]
        var e = ProcessInfo.processInfo.environment
        e["RAPPORT_AMQP_URL"] = env.settings.amqpURL
        e["RAPPORT_PG_URL"] = env.settings.postgresURL
        e["RAPPORT_TOPOLOGY"] = env.settings.topologyPath
        e["RAPPORT_CONNECTORS"] = env.settings.connectorsPath
        e["RAPPORT_BATCH_SIZE"] = String(env.settings.batchSize)
        e["RAPPORT_PREFETCH"] = String(env.settings.prefetch)
        e["RAPPORT_LOG_LEVEL"] = "warning"
        e["RAPPORT_METRICS_PORT"] = "0"  // several of these run at once
        self.process.environment = e
        self.process.standardOutput = FileHandle.nullDevice
        try self.process.run()
    }

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
