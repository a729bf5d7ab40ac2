import ArgumentParser
import Foundation
import Logging
import RapportAMQP
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

@main
struct RapportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rapport",
        abstract: "Rapport: CRM workers on RabbitMQ and PostgreSQL.",
        subcommands: [Run.self, TopologyCommand.self, Migrate.self, DLQ.self, Import.self, Ledger.self, SourceCommand.self, PrincipalCommand.self, AuditCommand.self, KeysCommand.self, EraseCommand.self, Merge.self, Unmerge.self, Review.self, Rep.self, Team.self, Pool.self, FollowUp.self, Customer.self, SearchCommand.self, Prospect.self, KB.self, Opportunity.self, HWCheck.self, Alerts.self, BackupCommand.self, Restore.self, Demo.self, Stats.self])
}

/// Options every subcommand shares: where the settings come from.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Settings file (JSON). RAPPORT_* environment variables override it.")
    var config: String?

    @Option(name: .long, help: "Broker URL (overrides settings and RAPPORT_AMQP_URL).")
    var amqpURL: String?

    @Option(name: .long, help: "PostgreSQL URL (overrides settings and RAPPORT_PG_URL).")
    var pgURL: String?

    func settings() throws -> RapportSettings {
        var s = RapportSettings()
        let env = ProcessInfo.processInfo.environment
        let file = self.config ?? env["RAPPORT_CONFIG"]
        if let file { s = try RapportSettings.load(file: file) }
        s = s.overridden(by: env)
        if let v = self.amqpURL { s.amqpURL = v }
        if let v = self.pgURL { s.postgresURL = v }
        return s
    }
}

/// Errors the CLI reports as one line and a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { self.description = d }
}

func bootstrapLogging() {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["RAPPORT_LOG_LEVEL"] ?? "info") ?? .info
        return h
    }
}

/// Prints `label done/total` on one terminal line, for long jobs.
struct Progress {
    let label: String
    let start = ContinuousClock.now
    func update(_ done: Int, _ total: Int, suffix: String = "") {
        let secs = Double((ContinuousClock.now - self.start).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - self.start).components.seconds)
        let rate = secs > 0 ? Double(done) / secs : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ %d/%d (%.0f/s, ETA %.0fs) %@", self.label, done, total, rate, eta, suffix)
        FileHandle.standardError.write(Data(line.utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
