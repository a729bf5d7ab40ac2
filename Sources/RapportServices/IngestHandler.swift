import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportSupport
import RapportDecoding
import RapportPostgres
import RapportRuntime
import RapportStore

/// Ingest for one inbound queue, as a ``QueueConsumer`` handler: decode, dead-letter what can never
/// succeed, and resolve the rest into leads in one transaction.
public struct IngestHandler: DeliveryHandler {
    public struct Configuration: Sendable {
        /// The queue's channel (`inbound.<channel>.<source>`), for metrics.
        public var channel: String
        /// `false` for the spine's exact-key rule (same phone or email only). Defaults to `true`.
        public var fuzzy: Bool

        public init(channel: String, fuzzy: Bool = true) {
            self.channel = channel
            self.fuzzy = fuzzy
        }
    }

    public let configuration: Configuration
    let decoder: any InboundDecoder
    let logger: Logger
    /// What this handler has done so far.
    public let counters: IngestCounters
    /// Candidate profiles, shared by every consumer thread of the process.
    public let profileCache: ProfileCache
    /// Registered sources and their keys, shared likewise.
    public let sources: SourcePolicyCache
    /// Seals each submission's personal fields (`nil`: plaintext).
    public let keyring: Keyring?

    public init(configuration: Configuration, decoder: any InboundDecoder, profileCache: ProfileCache,
                sources: SourcePolicyCache = SourcePolicyCache(), counters: IngestCounters = IngestCounters(),
                keyring: Keyring? = nil, logger: Logger) {
        self.configuration = configuration
        self.keyring = keyring
        self.decoder = decoder
        self.profileCache = profileCache
        self.sources = sources
        self.counters = counters
        self.logger = logger
    }

    public func handle(_ batch: [AMQPDelivery], database db: PGConnection) throws -> DeliveryOutcome {
        let started = ContinuousClock.now
        var accepted: [LeadSubmission] = []
        var acceptedDeliveries: [AMQPDelivery] = []
        var rejected: [(delivery: AMQPDelivery, rejection: InboundRejection)] = []
        let policy = try self.sources.policy(db)
        for (d, result) in zip(batch, Self.admitAndDecode(batch, policy: policy, decoder: self.decoder, now: Date())) {
            switch result {
            case .success(let s):
                accepted.append(s)
                acceptedDeliveries.append(d)
            case .failure(let r):
                rejected.append((d, r))
            }
        }
        var plan: LeadPlan
        var commit = LeadStore.CommitStats()
        do {
            (plan, commit) = try self.store(db).resolve(accepted)
        } catch let e as PGError where !e.isTransient && db.isConnected {
            // Something in this batch the database refuses: find it record by record.
            self.logger.warning("batch refused; retrying one by one", metadata: ["pg.sqlstate": "\(e.sqlState ?? "")"])
            let (p, refused) = try self.ingestOneByOne(accepted, deliveries: acceptedDeliveries, db: db)
            rejected.append(contentsOf: refused)
            plan = p
        }
        if !plan.replayed.isEmpty {
            let replayed = Set(plan.replayed)
            for (s, d) in zip(accepted, acceptedDeliveries) where replayed.contains(s) {
                rejected.append((d, InboundRejection(
                    code: .replayed,
                    reason: "Message id \(InboundChecks.excerpt(s.messageID)) of \(s.source) was already accepted with another body (SHA-256 differs).",
                    field: "message_id")))
            }
        }
        try Self.auditForged(rejected, db: db)
        let counters = self.counters, channel = self.configuration.channel, cache = self.profileCache
        let done = plan, commitStats = commit
        let reasons = rejected.map(\.rejection)
        return DeliveryOutcome(deadLetters: rejected) {
            counters.record(plan: done, deadLettered: reasons)
            Telemetry.ingest(done, channel: channel, deadLettered: reasons, batchDuration: ContinuousClock.now - started)
            Telemetry.resolution(commitStats, cache: cache.stats)
        }
    }

    /// Who sent each message (user_id, signature), then what it says. Pure work on the message alone, so a
    /// large batch is split over the cores: a signature check costs ~140 µs of CPU here (bench/security),
    /// more than the rest of decoding.
    static func admitAndDecode(_ batch: [AMQPDelivery], policy: SourcePolicy, decoder: any InboundDecoder,
                               now: Date) -> [Result<LeadSubmission, InboundRejection>] {
        let one: @Sendable (AMQPDelivery) -> Result<LeadSubmission, InboundRejection> = { d in
            var envelope = InboundEnvelope(d)
            return policy.admit(&envelope, now: now).flatMap { provenance in
                decoder.decode(envelope).map { s in
                    var s = s
                    s.provenance = provenance
                    return s
                }
            }
        }
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, 4, batch.count / Self.minimumPerThread)
        guard parts > 1 else { return batch.map(one) }
        var out = [Result<LeadSubmission, InboundRejection>](repeating: .failure(InboundRejection(code: .invalidField, reason: "")), count: batch.count)
        out.withUnsafeMutableBufferPointer { results in
            let slots = Slots(base: results.baseAddress!)
            let size = (batch.count + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in (part * size)..<min(batch.count, (part + 1) * size) { slots.base[i] = one(batch[i]) }
            }
        }
        return out
    }

    /// The results array while the threads fill it.
    /// - Important: `@unchecked Sendable`: each thread writes only its own range of indices, and the array
    ///   is read only after `concurrentPerform` returns.
    private struct Slots: @unchecked Sendable {
        let base: UnsafeMutablePointer<Result<LeadSubmission, InboundRejection>>
    }

    /// Refusals that say who sent a message or that it was tampered with go on the audit chain.
    static let securityCodes: Set<RejectionCode> = [.unauthenticatedSource, .unsigned, .unknownKey, .revokedKey, .badSignature, .stale, .replayed]

    static func auditForged(_ rejected: [(delivery: AMQPDelivery, rejection: InboundRejection)], db: PGConnection) throws {
        let forged = rejected.filter { Self.securityCodes.contains($0.rejection.code) }
        guard !forged.isEmpty else { return }
        try db.transaction {
            let audit = AuditLog(db: db)
            for (d, r) in forged {
                try audit.append(actor: d.properties.userID ?? d.properties.appID ?? "(unknown)", action: "message.refused",
                                 targets: d.properties.messageID.map { ["message:\($0)"] } ?? [],
                                 detail: "\(r.code.rawValue) on \(d.routingKey)")
            }
        }
    }

    /// Below this many messages per thread, splitting a batch costs more than it saves.
    static let minimumPerThread = 32

    private func store(_ db: PGConnection) -> LeadStore {
        var store = LeadStore(connection: db, profileCache: self.profileCache)
        store.fuzzy = self.configuration.fuzzy
        store.keyring = self.keyring
        return store
    }

    private func ingestOneByOne(_ subs: [LeadSubmission], deliveries: [AMQPDelivery],
                                db: PGConnection) throws -> (LeadPlan, [(delivery: AMQPDelivery, rejection: InboundRejection)]) {
        var merged = LeadPlan()
        var refused: [(delivery: AMQPDelivery, rejection: InboundRejection)] = []
        for (s, d) in zip(subs, deliveries) {
            do {
                let one = try self.store(db).ingest([s])
                merged.decisions.append(contentsOf: one.decisions)
                merged.replayed.append(contentsOf: one.replayed)
            } catch let e as PGError where !e.isTransient {
                // The submission is decoded, so its upstream key is known: keep it for the ledger export.
                var d = d
                if let key = s.fields[DecodedLead.platformLeadIDKey]?.stringValue {
                    d.properties.headers[DeadLetterHeader.upstreamKey] = .string(key)
                }
                refused.append((d, InboundRejection(
                    code: .storageRejected,
                    reason: "The database refused the record: \(e.message) (SQLSTATE \(e.sqlState ?? "?")).")))
            }
        }
        return (merged, refused)
    }
}
