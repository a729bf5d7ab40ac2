import ArgumentParser
import Foundation
import Logging
import RapportAdmin
import RapportMonitor
import RapportPostgres
import RapportStore
import RapportSupport
import RapportRuntime
import RapportServices
import ServiceLifecycle
import UnixSignals

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the workers: ingest per inbound queue, commands, the follow-up scheduler, the recycler, the monitor, the dead-letter archiver and the outbox relay.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Run only these services (comma-separated: \(ServiceRegistry.names.joined(separator: ", "))).")
    var only: String?

    @Option(help: "Consumer threads per inbound queue (overrides settings).")
    var consumers: Int?

    @Flag(inversion: .prefixedNo, help: "Migrate the database before starting.")
    var migrate = true

    func run() async throws {
        bootstrapLogging()
        let logger = Logger(label: "rapport")
        var settings = try self.global.settings()
        if let c = self.consumers { settings.consumersPerQueue = c }
        guard ["fuzzy", "exact"].contains(settings.matching) else { throw CLIError("matching is fuzzy or exact, not \(settings.matching)") }
        // Configuration errors exit here; an unreachable server is waited out below.
        let topology = try TopologyApplier.load(path: settings.topologyPath)
        let registry = try ServiceRegistry(settings: settings, topology: topology, logger: logger)
        let wanted = Set((self.only ?? ServiceRegistry.names.joined(separator: ",")).split(separator: ",").map { String($0) })
        guard !wanted.isDisjoint(with: ServiceRegistry.names) else {
            throw CLIError("--only named no known service (\(ServiceRegistry.names.joined(separator: ", ")))")
        }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // /metrics and /healthz first, so a worker waiting for its servers says so.
        if settings.metricsPort > 0 {
            let metrics = MetricsServer(port: settings.metricsPort, connections: registry.connections,
                                        registry: MetricsServer.bootstrap(), logger: logger)
            services.append(.init(service: ThreadedService(name: "metrics", worker: metrics)))
        }
        // Start-up before any service: migrate (when asked), then check the KEK file against the database.
        let keyring = registry.keyring, migrate = self.migrate
        let gate = StartGate(open: !migrate && keyring == nil)
        if migrate || keyring != nil {
            // Like `rapport migrate`: with changes to make, a backup first. Waits for the database.
            let backupDirectory = URL(fileURLWithPath: settings.backupDirectory), postgresURL = settings.postgresURL
            let supervisor = Supervisor(name: "startup", logger: logger, connections: registry.connections,
                                        maxBackoff: .milliseconds(settings.maxBackoffMilliseconds))
            let startup = ThreadedService(name: "startup") { _, stop in
                try supervisor.run(stop: stop, retryIf: ServerFault.isTransient) { _ in
                    if migrate {
                        let (backup, applied) = try Backup.migrateSafely(postgresURL, plan: .takeInto(backupDirectory))
                        if !applied.isEmpty {
                            logger.info("migrated", metadata: ["versions": "\(applied.map(\.version))", "backup": "\(backup?.path ?? "-")"])
                        }
                    }
                    if let keyring {
                        // A wrong or missing KEK ends the process here, before any service writes.
                        let db = try PGConnection(postgresURL)
                        defer { db.close() }
                        try keyring.attach(db: db)
                        logger.info("encryption on", metadata: ["suite": "\(keyring.suite.name)", "keks": "\(keyring.keks.keys.sorted())"])
                    }
                    gate.open()
                    stop.set()
                }
            }
            services.append(.init(service: startup, successTerminationBehavior: .ignore))
        } else {
            logger.warning("encryption off: personal fields are written in plaintext")
        }
        for s in try registry.services(only: wanted, gate: gate) { services.append(.init(service: s)) }
        var config = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(25)
        logger.info("rapport running", metadata: ["services": "\(wanted.sorted())", "consumers": "\(settings.consumersPerQueue)",
                                                  "broker": "\(registry.connections.brokerAddress)",
                                                  "database": "\(registry.connections.databaseAddress)"])
        try await ServiceGroup(configuration: config).run()
        logger.info("rapport stopped")
    }
}
