import ArgumentParser
import Foundation
import Logging
import RapportCore
import RapportPostgres
import ServiceLifecycle
import UnixSignals
import Monitor
import Workers

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the workers: ingest per inbound queue, commands, the follow-up scheduler, the dead-letter archiver and the outbox relay.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Run only these services (comma-separated: ingest, commands, scheduler, recycler, monitor, archiver, outbox).")
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
        let topology = try TopologyApplier.load(path: settings.topologyPath)
        if self.migrate {
            // Like `rapport migrate`: with changes to make, a backup first.
            let (backup, applied) = try Backup.migrateSafely(settings.postgresURL, plan: .takeInto(URL(fileURLWithPath: settings.backupDirectory)))
            if !applied.isEmpty {
                logger.info("migrated", metadata: ["versions": "\(applied.map(\.version))", "backup": "\(backup?.path ?? "-")"])
            }
        }
        let wanted = Set((self.only ?? "ingest,commands,scheduler,recycler,monitor,archiver,outbox").split(separator: ",").map { String($0) })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if wanted.contains("outbox") {
            let relay = OutboxRelay(settings: settings, logger: logger)
            services.append(.init(service: ThreadedService(name: "outbox", worker: relay)))
        }
        if wanted.contains("scheduler") {
            let scheduler = FollowUpScheduler(settings: settings, logger: logger)
            services.append(.init(service: ThreadedService(name: "scheduler", worker: scheduler)))
        }
        if wanted.contains("recycler") {
            let recycler = Recycler(settings: settings, logger: logger)
            services.append(.init(service: ThreadedService(name: "recycler", worker: recycler)))
        }
        if wanted.contains("monitor") {
            let monitor = MonitorService(settings: settings, logger: logger)
            services.append(.init(service: ThreadedService(name: "monitor", worker: monitor)))
        }
        if settings.metricsPort > 0 {
            let metrics = MetricsServer(settings: settings, registry: MetricsServer.bootstrap())
            services.append(.init(service: ThreadedService(name: "metrics", worker: metrics)))
        }
        if wanted.contains("archiver") {
            let archiver = DeadLetterArchiver(settings: settings, topology: topology, logger: logger)
            services.append(.init(service: ThreadedService(name: "archiver", worker: archiver)))
        }
        if wanted.contains("commands") {
            let identity = CommandConsumer(settings: settings, topology: topology, logger: logger)
            services.append(.init(service: ThreadedService(name: "commands-identity", worker: identity)))
            let sales = CommandConsumer(settings: settings, topology: topology, logger: logger, queue: "rapport.commands.sales",
                                        handler: SalesCommandHandler())
            services.append(.init(service: ThreadedService(name: "commands-sales", worker: sales)))
        }
        if wanted.contains("ingest") {
            // One cache for every queue: an imported lead is a candidate for the next web form.
            let profiles = ProfileCache(capacity: settings.profileCacheSize)
            // Consumers go last: on shutdown they stop taking work first, before what they depend on.
            for q in topology.queues(withPrefix: "rapport.inbound.") {
                let channel = String(q.name.dropFirst("rapport.inbound.".count))
                let decoder: any InboundDecoder
                if channel == "ads" {
                    let ads = AdsDecoder(connectorsDirectory: settings.connectorsPath, googleAdsKey: settings.googleAdsKey,
                                         maxBodyBytes: settings.maxBodyBytes)
                    for (name, why) in ads.unavailable {
                        logger.warning("ad connector unavailable; its leads will be dead-lettered", metadata: ["connector": "\(name)", "why": "\(why)"])
                    }
                    decoder = ads
                } else {
                    var web = WebFormDecoder(channel: channel, maxBodyBytes: settings.maxBodyBytes)
                    // Imported records may name a person by address, birth date or national id instead.
                    web.acceptsOtherIdentity = channel == "import"
                    decoder = web
                }
                let options = IngestConsumer.Options(
                    queue: q.name, decoder: decoder,
                    prefetch: settings.prefetch, batchSize: settings.batchSize,
                    batchWait: .milliseconds(settings.batchWaitMilliseconds),
                    maxBackoff: .milliseconds(settings.maxBackoffMilliseconds))
                let consumer = IngestConsumer(settings: settings, topology: topology, options: options, logger: logger,
                                              profileCache: profiles)
                services.append(.init(service: ThreadedService(name: "ingest-\(channel)", threads: settings.consumersPerQueue, worker: consumer)))
            }
        }
        guard !services.isEmpty else { throw CLIError("--only named no known service (ingest, commands, scheduler, recycler, monitor, archiver, outbox)") }
        var config = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(25)
        logger.info("rapport running", metadata: ["services": "\(wanted.sorted())", "consumers": "\(settings.consumersPerQueue)"])
        try await ServiceGroup(configuration: config).run()
        logger.info("rapport stopped")
    }
}
