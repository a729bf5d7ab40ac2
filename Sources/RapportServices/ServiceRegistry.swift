import RapportCore
import Foundation
import RapportSupport
import Logging
import RapportAMQP
import RapportDecoding
import RapportMonitor
import RapportRuntime
import RapportStore

/// Every service `rapport run` can start, built from the settings. Adding a consumer is a handler plus
/// one entry in ``services(only:gate:)``.
public struct ServiceRegistry: Sendable {
    /// The names `rapport run --only` takes, in start order.
    public static let names = ["outbox", "scheduler", "recycler", "indexer", "auditor", "monitor", "archiver", "commands", "ingest"]

    public let settings: RapportSettings
    public let topology: Topology
    public let connections: ServerConnections
    let logger: Logger
    /// One cache for every ingest queue: an imported lead is a candidate for the next web form.
    public let profileCache: ProfileCache
    /// Registered sources and their keys, likewise shared.
    public let sourcePolicy: SourcePolicyCache
    /// The KEKs and cached data keys (`nil`: encryption off).
    public let keyring: Keyring?

    public init(settings: RapportSettings, topology: Topology, logger: Logger) throws {
        self.settings = settings
        self.topology = topology
        self.connections = try settings.connections()
        self.logger = logger
        self.profileCache = ProfileCache(capacityBytes: settings.profileCacheMB << 20)
        self.sourcePolicy = SourcePolicyCache(verifier: SignatureVerifier(window: TimeInterval(settings.signatureWindowSeconds)))
        self.keyring = try settings.keyring()
    }

    private var maxBackoff: Duration { .milliseconds(self.settings.maxBackoffMilliseconds) }

    /// The services named in `only`, each on its own threads, waiting at `gate` until start-up is done.
    /// Dependencies first: on shutdown the consumers stop taking work before what they depend on goes.
    public func services(only: Set<String>, gate: StartGate? = nil) throws -> [ThreadedService] {
        var out: [ThreadedService] = []
        func add(_ name: String, threads: Int = 1, _ worker: some WorkerLoop) {
            out.append(ThreadedService(name: name, threads: threads, after: gate, worker: worker))
        }
        if only.contains("outbox") { add("outbox", self.periodic("outbox", OutboxRelay())) }
        if only.contains("scheduler") { add("scheduler", self.periodic("scheduler", FollowUpScheduler())) }
        if only.contains("recycler") { add("recycler", self.periodic("recycler", Recycler(logger: self.logger))) }
        if only.contains("indexer") { add("indexer", self.periodic("indexer", SearchIndexer())) }
        if only.contains("auditor") {
            if let path = self.settings.auditKeyFile {
                let key = try Signer.load(path: path, create: false).signer
                add("auditor", self.periodic("auditor", AuditCheckpointer(key: key, file: self.settings.auditCheckpointFile,
                                                                        interval: .seconds(self.settings.auditCheckpointSeconds))))
            } else {
                self.logger.warning("no audit_key_file: the audit chain is kept but not checkpointed (a cut-off tail would go unnoticed)")
            }
        }
        if only.contains("monitor") { add("monitor", self.periodic("monitor", self.monitor())) }
        if only.contains("archiver") { add("archiver", self.archiver()) }
        if only.contains("commands") {
            add("commands-identity", self.commands(queue: "rapport.commands.identity", handler: IdentityCommandHandler(eraseLog: self.settings.eraseLogFile, profileCache: self.profileCache)))
            add("commands-sales", self.commands(queue: "rapport.commands.sales", handler: SalesCommandHandler(keyring: self.keyring)))
            add("commands-records", self.commands(queue: "rapport.commands.records", handler: RecordCommandHandler(keyring: self.keyring)))
        }
        if only.contains("ingest") {
            for consumer in try self.ingestConsumers() {
                add("ingest-\(consumer.handler.configuration.channel)", threads: self.settings.consumersPerQueue, consumer)
            }
        }
        return out
    }

    /// A periodic job under the one runner.
    public func periodic<Job: PeriodicJob>(_ name: String, _ job: Job) -> PeriodicJobRunner<Job> {
        PeriodicJobRunner(name: name, job: job, connections: self.connections, maxBackoff: self.maxBackoff, logger: self.logger)
    }

    /// One consumer per `rapport.inbound.*` queue, each with the decoder `connectors/routes.json` names.
    public func ingestConsumers(counters: IngestCounters = IngestCounters()) throws -> [QueueConsumer<IngestHandler>] {
        let routes = try InboundRoutes.load(connectorsDirectory: self.settings.connectorsPath)
        return try self.topology.queues(withPrefix: "rapport.inbound.").map { q in
            let channel = String(q.name.dropFirst("rapport.inbound.".count))
            let decoder = try routes.decoder(queue: q.name, channel: channel, maxBodyBytes: self.settings.maxBodyBytes,
                                             sharedKeys: self.settings.connectorKeys)
            for (name, why) in decoder.unavailable.sorted(by: { $0.key < $1.key }) {
                self.logger.warning("connector unavailable; its leads will be dead-lettered", metadata: ["connector": "\(name)", "why": "\(why)"])
            }
            return self.ingest(queue: q.name, decoder: decoder, counters: counters)
        }
    }

    /// The ingest consumer of one queue with a given decoder.
    public func ingest(queue: String, decoder: any InboundDecoder, counters: IngestCounters = IngestCounters()) -> QueueConsumer<IngestHandler> {
        let channel = String(queue.split(separator: ".").last ?? "")
        let handler = IngestHandler(configuration: .init(channel: channel, fuzzy: self.settings.matching != "exact"),
                                    decoder: decoder, profileCache: self.profileCache, sources: self.sourcePolicy, counters: counters,
                                    keyring: self.keyring, logger: self.logger)
        return QueueConsumer(configuration: .init(
            queue: queue, connections: self.connections, topology: self.topology, prefetch: self.settings.prefetch,
            batchSize: self.settings.batchSize, batchWait: .milliseconds(self.settings.batchWaitMilliseconds),
            maxBackoff: self.maxBackoff, connectionName: "rapport-ingest-\(queue)",
            publisherConnectionName: "rapport-ingest-publish"), handler: handler, logger: self.logger)
    }

    /// A command queue: one command at a time, answered on `reply_to`.
    public func commands(queue: String, handler: any CommandHandler) -> QueueConsumer<CommandConsumer> {
        QueueConsumer(configuration: .init(queue: queue, connections: self.connections, topology: self.topology, prefetch: 16,
                                           batchSize: 1, batchWait: .zero, maxBackoff: self.maxBackoff,
                                           publisherConnectionName: "\(queue)-replies"),
                      handler: CommandConsumer(handler: handler, logger: self.logger), logger: self.logger)
    }

    /// `rapport.dead` into the `dead_letters` table.
    public func archiver(batchSize: Int = 200) -> QueueConsumer<DeadLetterArchiver> {
        QueueConsumer(configuration: .init(queue: "rapport.dead", connections: self.connections, topology: self.topology,
                                           prefetch: batchSize * 2, batchSize: batchSize, batchWait: .milliseconds(10),
                                           maxBackoff: self.maxBackoff, connectionName: "rapport-dlq-archiver"),
                      handler: DeadLetterArchiver(logger: self.logger, keyring: self.keyring), logger: self.logger)
    }

    /// The health monitor with the standard checks.
    public func monitor(checks: [any HealthCheck]? = nil, clock: @escaping @Sendable () -> Date = { Date() }) -> MonitorService {
        MonitorService(configuration: self.settings.monitorConfiguration,
                       checks: checks ?? HealthChecks.standard(managementURL: self.settings.managementURL,
                                                               vhost: self.connections.amqp.vhost, postgresURL: self.settings.postgresURL),
                       logger: self.logger, clock: clock)
    }
}
