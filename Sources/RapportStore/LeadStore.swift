import Foundation
import Synchronization
import RapportCore
import RapportSupport
import RapportPostgres

/// Writes batches of lead submissions to PostgreSQL in one transaction each.
///
/// Exact keys need no coordination: a batch plans, then writes ledger rows and identity keys with
/// `on conflict do nothing`, in key order; if another transaction took one of them meanwhile, fewer rows
/// come back than planned, the batch rolls back and plans again, now seeing the other's commit.
///
/// Fuzzy matching compares a record with leads that share no exact key, so two batches can also disagree
/// about leads the other is creating. A batch therefore decides **outside any lock**, on what is committed
/// (the expensive part, in parallel with other batches), and then commits under a short transaction lock
/// that orders commits: holding it, the batch reads the ``resolution log`` of leads committed since it
/// looked. If none of them is a lead its decisions name and none scores at least the review threshold
/// against one of its records (under a shared blocking key), the decisions are those it would have made
/// after them, and it writes. Otherwise it plans again, holding the lock, and cannot be overtaken. (One
/// difference from strict serial order remains: a key with more leads than a plan reads per key could
/// have shown it another subset. The cap exists because such a key identifies nobody.)
public struct LeadStore: Sendable {
    public let connection: PGConnection
    /// What matching needs of leads seen before, so candidates need not be profiled again. Defaults to none.
    public var profileCache: ProfileCache?
    /// How often a batch is re-planned after losing a race before giving up (as a transient error).
    public var maxConflictRetries = 8
    /// False: exact keys only (see ``LeadPlanner/fuzzy``); no blocking keys, no profiles, no lock.
    public var fuzzy = true
    /// When set, each ledger row's personal fields are sealed under its lead's data key
    /// (``LedgerSeal``) and identity and blocking keys are stored blind (``BlindIndex``); `nil` writes
    /// them in plaintext (encryption off).
    public var keyring: Keyring?

    /// How identity and blocking keys are stored (the cached index; a commit checks it is still current).
    func index() throws -> BlindIndex { try self.keyring?.blindIndex(db: self.connection) ?? .plain }

    /// How a fuzzy batch's commit went.
    public struct CommitStats: Sendable, Equatable {
        /// Leads committed by others between the batch's look and its commit.
        public var committedMeanwhile = 0
        /// True when one of them mattered and the batch planned again under the lock.
        public var replanned = false
        public init() {}
    }

    public init(connection: PGConnection, profileCache: ProfileCache? = nil) {
        self.connection = connection
        self.profileCache = profileCache
    }

    /// Another transaction claimed a message id or identity key this batch planned to take.
    struct Conflict: Error {}

    /// Processes one batch atomically and returns what happened to each submission.
    @discardableResult
    public func ingest(_ submissions: [LeadSubmission], now: Date = Date()) throws -> LeadPlan {
        try self.resolve(submissions, now: now).plan
    }

    /// ``ingest(_:now:)``, also saying how the commit went (for metrics and benchmarks).
    public func resolve(_ submissions: [LeadSubmission], now: Date = Date()) throws -> (plan: LeadPlan, commit: CommitStats) {
        guard !submissions.isEmpty else { return (LeadPlan(), CommitStats()) }
        let profiles = self.profiles(of: submissions)
        var attempt = 0
        while true {
            do {
                guard self.fuzzy else {
                    return (try self.connection.transaction {
                        try self.commit(self.planReading(submissions, profiles: [], now: now), profiles: [], now: now)
                    }, CommitStats())
                }
                // The log position first: whatever commits after it is checked before writing.
                let position: Int64 = try self.connection.query(
                    "select coalesce(max(seq), 0) as seq from resolution_log").first!.decode("seq")
                let lookedAt = ProcessInfo.processInfo.systemUptime
                let reading = try self.planReading(submissions, profiles: profiles, now: now)
                var stats = CommitStats()
                let plan = try self.connection.transaction {
                    try self.connection.query("select pg_advisory_xact_lock($1)", [Self.resolutionLock])
                    var reading = reading
                    let (still, meanwhile) = try self.stillValid(reading, since: position, lookedAt: lookedAt, profiles: profiles)
                    stats.committedMeanwhile = meanwhile
                    if !still {
                        stats.replanned = true
                        reading = try self.planReading(submissions, profiles: profiles, now: now)
                    }
                    return try self.commit(reading, profiles: profiles, now: now)
                }
                return (plan, stats)
            } catch is Conflict where attempt < self.maxConflictRetries {
                attempt += 1
            } catch is Conflict {
                throw PGError(.query, message: "batch lost \(attempt) races for the same keys; will retry", sqlState: "40001")
            }
        }
    }

    /// Transaction-scoped lock that orders fuzzy commits (and manual merges) across workers, so two copies
    /// of one person arriving together (even sharing no phone or email) are judged one after the other.
    static let resolutionLock: Int64 = 0x5241_5050_4f52_5431  // "RAPPORT1"

    /// Leads a blocking key may hold and still be read: a key shared by more (a common name in a busy
    /// district, a switchboard number) identifies nobody, so it is not scanned at all; more specific keys
    /// find the person. Reading any 16 of 300 would cost as much and decide by an arbitrary subset.
    static let maxCandidatesPerKey = 8
    /// Earlier submissions of a merged candidate compared besides the lead itself (the latest ones).
    static let touchesPerCandidate = 4
    /// A plan older than this is made again under the lock: the log keeps ten minutes (see ``recordCommit``).
    static let maxPlanAge: TimeInterval = 300

    /// What a plan was made from: the candidates' touch counts as read, and what matching knew of them.
    struct Reading {
        var plan: LeadPlan
        var touchCounts: [UUID: Int]
        var known: [UUID: ProfileCache.Entry]
        /// The blind index its lookups used; a reindex since means planning again.
        var index: BlindIndex
        /// The stored form of every key it looked up, so the commit does not compute them again.
        var blinded: [String: String] = [:]
    }

    /// Writes a plan, after checking that the leads it changes are as it read them.
    private func commit(_ reading: Reading, profiles: [MatchProfile], now: Date) throws -> LeadPlan {
        let plan = reading.plan
        // Lock only the leads this batch changes, and only if nobody changed them since they were read;
        // else plan again. (Locking every candidate dirtied thousands of rows per batch for nothing.)
        let changed = plan.leads.keys.filter { !plan.createdLeadIDs.contains($0) }.sorted { $0.uuidString < $1.uuidString }
        if !changed.isEmpty {
            let locked = try self.connection.query(
                "select id, touch_count from leads where id = any($1::uuid[]) and merged_into is null order by id for update",
                [changed.map { $0.uuidString.lowercased() }])
            guard locked.count == changed.count else { throw Conflict() }
            for row in locked where try reading.touchCounts[row.decode("id", as: UUID.self)] != row.decode("touch_count", as: Int.self) {
                throw Conflict()
            }
        }
        var index = reading.index
        if let keyring = self.keyring {
            index = try keyring.currentIndex(db: self.connection)
            guard index == reading.index else { throw Conflict() }
        }
        try self.write(plan, index: index, blinded: reading.blinded, now: now)
        guard self.fuzzy else { return plan }
        try Self.recordCommit(plan.leads.values.map { ($0.id, $0.touchCount) }, on: self.connection)
        // Cached only once written; a rolled-back batch leaves entries whose touch counts nothing will ask for.
        if let cache = self.profileCache {
            var recent: [UUID: [MatchProfile]] = [:]
            for (n, d) in plan.decisions.enumerated() where d.outcome != .duplicateMessage {
                recent[d.leadID!, default: []].append(profiles[n])
            }
            for (id, lead) in plan.leads {
                guard let p = plan.profiles[id] else { continue }
                // A lead seen once is its submission: its latest submissions are kept from the second on.
                let before = reading.known[id].map { $0.touchCount > 1 ? $0.recent : [$0.profile] } ?? []
                cache.store(id: id, touchCount: lead.touchCount, profile: p,
                            recent: lead.touchCount > 1 ? before + (recent[id] ?? []) : [])
            }
        }
        return plan
    }

    /// Appends to the resolution log the leads a transaction created or changed, with their touch counts
    /// (`-1`: changed, count not known), and now and then forgets entries older than ten minutes. Callers
    /// hold ``resolutionLock``, so log order is commit order.
    static func recordCommit(_ leads: [(id: UUID, touchCount: Int)], on db: PGConnection) throws {
        guard !leads.isEmpty else { return }
        let seq: Int64 = try db.query(
            "insert into resolution_log (lead_ids, touch_counts) values ($1::uuid[], $2::int[]) returning seq",
            [leads.map { $0.id.uuidString.lowercased() }, leads.map(\.touchCount)]).first!.decode("seq")
        if seq % 64 == 0 {
            try db.query("delete from resolution_log where created_at < now() - interval '10 minutes'")
        }
    }

    /// Whether a plan made before `position` still holds, now that the lock is held: true when no lead
    /// committed since is one its decisions name (at another touch count) or scores at least the review
    /// threshold against one of its records (under a shared blocking key): below it, a candidate changes
    /// no decision. Also returns how many leads were committed since.
    private func stillValid(_ reading: Reading, since position: Int64, lookedAt: TimeInterval,
                            profiles: [MatchProfile]) throws -> (Bool, Int) {
        if ProcessInfo.processInfo.systemUptime - lookedAt > Self.maxPlanAge { return (false, 0) }
        var meanwhile: [UUID: Int] = [:]
        for row in try self.connection.query(
            """
            select x.id, x.touch_count from resolution_log r
            cross join lateral unnest(r.lead_ids, r.touch_counts) as x(id, touch_count)
            where r.seq > $1 order by r.seq
            """, [position]) {
            meanwhile[try row.decode("id")] = try row.decode("touch_count")
        }
        guard !meanwhile.isEmpty else { return (true, 0) }
        // A lead a decision names (merged into, or flagged as a possible duplicate of) must be as it was
        // read. Any other candidate that changed is judged like a new lead: by what it is now.
        var named = Set<UUID>()
        for d in reading.plan.decisions {
            if let id = d.leadID { named.insert(id) }
            if let id = d.possibleDuplicateOf { named.insert(id) }
        }
        var unseen: [UUID: Int] = [:]
        for (id, count) in meanwhile where reading.touchCounts[id] != count {
            if named.contains(id) { return (false, meanwhile.count) }
            unseen[id] = count
        }
        guard !unseen.isEmpty else { return (true, meanwhile.count) }
        // Which records could meet each unseen lead: those sharing a blocking key with it.
        var recordsByKey: [String: [Int]] = [:]
        for (n, d) in reading.plan.decisions.enumerated() where d.outcome != .duplicateMessage {
            for k in profiles[n].blockingKeys { recordsByKey[k, default: []].append(n) }
        }
        var known: [UUID: ProfileCache.Entry] = [:]
        var toRead: [UUID] = []
        for (id, count) in unseen {
            if count >= 0, let e = self.profileCache?.entry(id: id, touchCount: count) { known[id] = e } else { toRead.append(id) }
        }
        if !toRead.isEmpty {
            let leads = try self.readLeads("l.id = any($1::uuid[])", [toRead.map { $0.uuidString.lowercased() }])
            known.merge(try self.matchData(of: leads)) { a, _ in a }
        }
        let matcher = self.planner.matcher
        for e in known.values {
            var records = Set<Int>()
            for p in [e.profile] + e.recent { for k in p.blockingKeys { records.formUnion(recordsByKey[k] ?? []) } }
            for n in records {
                for p in [e.profile] + e.recent where matcher.compare(profiles[n], p).score >= matcher.reviewThreshold {
                    return (false, meanwhile.count)
                }
            }
        }
        return (true, meanwhile.count)
    }

    /// What ``ingest(_:now:)`` would decide for these submissions, without writing anything: reads the
    /// ledger, the identity owners and the candidates, and plans.
    public func plan(_ submissions: [LeadSubmission], now: Date = Date()) throws -> LeadPlan {
        try self.planReading(submissions, profiles: self.profiles(of: submissions), now: now).plan
    }

    /// The submissions' match profiles (none for exact matching).
    private func profiles(of submissions: [LeadSubmission]) -> [MatchProfile] {
        self.fuzzy ? submissions.map { MatchProfile($0.personRecord) } : []
    }

    /// The planner this store decides with; ``stillValid`` judges with its matcher too.
    private var planner: LeadPlanner {
        var p = LeadPlanner()
        p.fuzzy = self.fuzzy
        return p
    }

    /// Leads (not merged away) matching a condition on `leads l`, in id order; `with` may name CTEs for it.
    private func readLeads(with: String = "", _ condition: String, _ parameters: [(any PGEncodable)?]) throws -> [LeadState] {
        try self.connection.query(
            """
            \(with)
            select l.id, l.name, l.phone, l.email, l.company, l.address, l.source, l.channel,
                   l.fields->>'birth_date' as birth_date, l.fields->>'national_id' as national_id,
                   l.customer_id, l.owner, l.touch_count, l.first_seen_at, l.last_seen_at
            from leads l where \(condition) and l.merged_into is null
            order by l.id
            """, parameters).map { row in
            // Of utm and fields only what the matcher reads: the update merges the rest in SQL.
            var fields: [String: JSONValue] = [:]
            for key in ["birth_date", "national_id"] { if let v = row[key] { fields[key] = .string(v) } }
            return LeadState(
                id: try row.decode("id"), name: row["name"], phone: row["phone"], email: row["email"],
                company: row["company"], address: row["address"], source: try row.decode("source"),
                channel: try row.decode("channel"), utm: [:], fields: fields,
                customerID: try row.decodeIfPresent("customer_id"), owner: row["owner"], touchCount: try row.decode("touch_count"),
                firstSeenAt: try row.decode("first_seen_at"), lastSeenAt: try row.decode("last_seen_at"))
        }
    }

    /// Each lead's profile and its latest submissions' profiles: from the cache when it holds the lead at
    /// this touch count, else made (one query for the submissions of all merged leads) and cached.
    private func matchData(of leads: [LeadState]) throws -> [UUID: ProfileCache.Entry] {
        var out: [UUID: ProfileCache.Entry] = [:]
        var missed: [UUID] = [], merged: [UUID] = []
        for l in leads {
            if let e = self.profileCache?.entry(id: l.id, touchCount: l.touchCount) {
                out[l.id] = e
                continue
            }
            out[l.id] = ProfileCache.Entry(touchCount: l.touchCount, profile: MatchProfile(l.personRecord), recent: [], bytes: 0)
            missed.append(l.id)
            if l.touchCount > 1 { merged.append(l.id) }
        }
        if !merged.isEmpty {
            let rows = try self.connection.query(
                """
                select lead_id, name, phone, email, company, address, birth_date, national_id, source, message_id,
                       sealed, sealed_key from (
                    select \(LedgerSeal.personColumns),
                           row_number() over (partition by lead_id order by received_at desc) as n
                    from inbound_ledger where lead_id = any($1::uuid[])) t
                where n <= $2 order by n desc
                """, [merged.map { $0.uuidString.lowercased() }, Self.touchesPerCandidate])
            let opened = try LedgerSeal.open(rows, keyring: self.keyring, db: self.connection)
            for (i, row) in rows.enumerated() {
                let id: UUID = try row.decode("lead_id")
                out[id]?.recent.append(MatchProfile(LedgerSeal.person(row, opened: opened[i], id: id.uuidString)))
            }
        }
        if let cache = self.profileCache {
            for id in missed {
                let e = out[id]!
                cache.store(id: id, touchCount: e.touchCount, profile: e.profile, recent: e.recent)
            }
        }
        return out
    }

    /// The plan, with what it was made from. `profiles` are the submissions' match profiles (empty for
    /// exact matching).
    private func planReading(_ submissions: [LeadSubmission], profiles: [MatchProfile], now: Date) throws -> Reading {
        let db = self.connection
        var identityKeys = Set<String>()
        var blockingKeys = Set<String>()
        for s in submissions { identityKeys.formUnion(IdentityKey.keys(of: s)) }
        for p in profiles { blockingKeys.formUnion(p.blockingKeys) }
        // The database holds keys blind; results are read back to the keys the planner knows.
        let index = try self.index()
        let stored = index.map(identityKeys)
        var blinded = index.isPlain ? [:] : Dictionary(stored.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        let blockingList = Array(blockingKeys)
        let blockingStored = index(blockingList)
        if !index.isPlain { for (k, b) in zip(blockingList, blockingStored) { blinded[k] = b } }

        // One round trip for what the batch already is: messages seen before, identity keys' owners and
        // customers. (Each query is a network round trip; one record's decision makes only two.)
        var processed = Set<String>()
        var bodyHashes: [String: String] = [:]
        var owners: [String: UUID] = [:]
        var customersByKey: [String: CustomerMatch] = [:]
        for row in try db.query(
            """
            select 'm' as kind, l.source || chr(31) || l.message_id as k, null::uuid as id, null::text as owner, l.body_sha256 as name
            from inbound_ledger l join unnest($1::text[], $2::text[]) as m(source, message_id)
              on l.source = m.source and l.message_id = m.message_id
            union all
            select 'i', i.key, i.lead_id, null, null from unnest($3::text[]) as k(key) join lead_identities i on i.key = k.key
            union all
            select 'c', i.key, c.id, c.owner, c.name
            from unnest($3::text[]) as k(key) join customer_identities i on i.key = k.key join customers c on c.id = i.customer_id
            where c.deleted_at is null
            """, [submissions.map(\.source), submissions.map(\.messageID), Array(stored.keys)]) {
            let key: String = try row.decode("k")
            switch row["kind"] {
            case "m":
                processed.insert(key)
                if let hash = row["name"] { bodyHashes[key] = hash }
            case "i": owners[stored[key] ?? key] = try row.decode("id")
            default: customersByKey[stored[key] ?? key] = CustomerMatch(id: try row.decode("id"), owner: row["owner"], name: row["name"])
            }
        }

        var candidates: [LeadState] = []
        if !blockingKeys.isEmpty || !owners.isEmpty {
            // Materialized, so each key's index is probed once (inlined, the array was built twice); and
            // `= any(array(…))`, as `in (…)` made the planner hash-join a sequential scan of a million leads.
            candidates = try self.readLeads(
                with: """
                with per_key as materialized (
                    select array(select lead_id from lead_keys where key = k.key limit $2 + 1) as ids
                    from unnest($1::text[]) as k(key))
                """,
                """
                l.id = any(array(select unnest(ids) from per_key where cardinality(ids) <= $2 union select unnest($3::uuid[])))
                """, [blockingStored, Self.maxCandidatesPerKey, owners.values.map { $0.uuidString.lowercased() }])
        }
        let known = self.fuzzy ? try self.matchData(of: candidates) : [:]
        let touchCounts = Dictionary(candidates.map { ($0.id, $0.touchCount) }, uniquingKeysWith: { a, _ in a })
        // A merged candidate is also compared as its latest submissions were (a second phone, another
        // spelling); one that equals the lead scores as the lead does, so none need be filtered out.
        let touches = known.compactMapValues { $0.touchCount > 1 ? $0.recent : nil }
        // A message id seen before (in the ledger or earlier in this batch) with another body is a replay,
        // not a redelivery: it is set aside for the dead letters, and the planner never sees it.
        var replayed: [LeadSubmission] = []
        var planned = submissions, plannedProfiles = profiles
        if submissions.contains(where: { $0.provenance != nil }) {
            var keep: [Int] = []
            for (i, s) in submissions.enumerated() {
                guard let hash = s.provenance?.bodySHA256 else { keep.append(i); continue }
                let key = s.source + "\u{1F}" + s.messageID
                if let first = bodyHashes[key], first != hash {
                    replayed.append(s)
                } else {
                    bodyHashes[key] = bodyHashes[key] ?? hash
                    keep.append(i)
                }
            }
            if !replayed.isEmpty {
                planned = keep.map { submissions[$0] }
                if !profiles.isEmpty { plannedProfiles = keep.map { profiles[$0] } }
            }
        }
        var plan = self.planner.plan(
            planned, processed: processed, candidates: candidates, identityOwners: owners,
            customersByKey: customersByKey, now: now, submissionProfiles: self.fuzzy ? plannedProfiles : nil, candidateTouches: touches,
            profileOf: { lead in
                if let e = known[lead.id], e.touchCount == lead.touchCount { return e.profile }
                return MatchProfile(lead.personRecord)
            })
        plan.replayed = replayed
        return Reading(plan: plan, touchCounts: touchCounts, known: known, index: index, blinded: blinded)
    }

    private func write(_ plan: LeadPlan, index: BlindIndex, blinded: [String: String], now: Date) throws {
        func stored(_ key: String) -> String { blinded[key] ?? index(key) }
        let db = self.connection
        var ids: [UUID: String] = [:]
        func text(_ id: UUID) -> String {
            if let t = ids[id] { return t }
            let t = id.uuidString.lowercased()
            ids[id] = t
            return t
        }
        let nowText = ISO8601.string(now)

        // Ledger first, in key order: a message another transaction is processing right now makes this
        // insert wait for it and then come back short.
        var ledger = JSONRowsWriter(capacity: plan.decisions.count * 400)
        var events = JSONRowsWriter()
        var candidatesRows = JSONRowsWriter()
        var heldRows: [(lead: String, rep: String, reason: String)] = []
        let accepted = plan.decisions.filter { $0.outcome != .duplicateMessage }
            .sorted { ($0.submission.source, $0.submission.messageID) < ($1.submission.source, $1.submission.messageID) }
        let dataKeys = try self.keyring?.dataKeys(Set(accepted.map { $0.leadID! }), create: true, db: db)
        for d in accepted {
            let s = d.submission
            let leadID = text(d.leadID!)
            ledger.beginRow()
            ledger.field("source", s.source)
            ledger.field("message_id", s.messageID)
            ledger.field("channel", s.channel)
            ledger.field("outcome", d.outcome.rawValue)
            ledger.field("lead_id", leadID)
            ledger.field("customer_id", d.customer.map { text($0.id) })
            ledger.field("company", s.company)
            if let keyring = self.keyring, let key = dataKeys?[d.leadID!] {
                let sealed = keyring.seal(LedgerSeal.payload(of: s), key: key, table: LedgerSeal.table, column: LedgerSeal.column,
                                          row: LedgerSeal.row(source: s.source, messageID: s.messageID), keyID: d.leadID!)
                ledger.field("sealed", Hex.encode(sealed))
                ledger.field("sealed_key", leadID)
                ledger.field("fields", json: .object(LedgerSeal.readableFields(of: s)))
            } else {
                ledger.field("name", s.name)
                ledger.field("phone", s.phone)
                ledger.field("email", s.email)
                ledger.field("address", s.address)
                ledger.field("message", s.message)
                ledger.field("fields", json: .object(s.fields))
            }
            ledger.field("utm", json: .object(s.utm))
            ledger.field("submitted_at", s.submittedAt.map(ISO8601.string))
            ledger.field("score", d.score.map { String(format: "%.2f", $0) })
            let reasons = JSONValue.array(d.reasons.map { .string($0.description) })
            ledger.field("reasons", json: reasons)
            if let p = s.provenance {
                ledger.field("body_sha256", p.bodySHA256)
                ledger.field("exchange", p.exchange)
                ledger.field("routing_key", p.routingKey)
                ledger.field("content_type", p.contentType)
                ledger.field("key_id", p.keyID)
                ledger.field("signature", p.signature)
                ledger.field("signed_at_ms", p.signedAtMillis.map { String($0) })
            }
            ledger.endRow()
            if let other = d.possibleDuplicateOf {
                candidatesRows.beginRow()
                candidatesRows.field("lead_id", leadID)
                candidatesRows.field("candidate_lead_id", text(other))
                candidatesRows.field("score", String(format: "%.2f", d.score ?? 0))
                candidatesRows.field("reasons", json: reasons)
                candidatesRows.field("source", s.source)
                candidatesRows.field("message_id", s.messageID)
                candidatesRows.endRow()
                Self.event(&events, "customer.possible_duplicate", id: "customer.possible_duplicate:\(s.source)/\(s.messageID)",
                           leadID: leadID, s, at: nowText) { w in
                    w.field("candidate_lead_id", text(other))
                    w.field("score", String(format: "%.2f", d.score ?? 0))
                }
            }

            if d.outcome == .created {
                Self.event(&events, "lead.created", id: "lead.created:" + leadID, leadID: leadID, s, at: nowText)
            }
            if let owner = d.ownerWarned {
                let matched = d.possibleDuplicateOf ?? d.leadID!
                Self.event(&events, "customer.duplicate_detected", id: "customer.duplicate_detected:\(s.source)/\(s.messageID):owner",
                           leadID: leadID, s, at: nowText) { w in
                    w.field("owner", owner)
                    w.field("matched_lead_id", text(matched))
                    w.field("held_for_owner", json: .bool(d.possibleDuplicateOf != nil))
                    w.field("score", d.score.map { String(format: "%.2f", $0) })
                    w.field("reasons", json: reasons)
                }
                if d.possibleDuplicateOf != nil {
                    heldRows.append((leadID, owner, "possible duplicate of \(text(matched))"))
                }
            }
            if let c = d.customer {
                Self.event(&events, "customer.duplicate_detected", id: "customer.duplicate_detected:\(s.source)/\(s.messageID)",
                           leadID: leadID, s, at: nowText) { w in
                    w.field("customer_id", text(c.id))
                    w.field("owner", c.owner)
                    w.field("customer_name", c.name)
                    w.field("matched_on", d.customerKey.map { String($0.split(separator: ":").first ?? "") })
                }
            }
        }
        guard !accepted.isEmpty else { return }
        let inserted = try db.query(
            """
            insert into inbound_ledger (source, message_id, channel, outcome, lead_id, customer_id, name, phone,
                                        email, company, address, message, utm, fields, submitted_at, score, reasons,
                                        body_sha256, exchange, routing_key, content_type, key_id, signature, signed_at_ms,
                                        sealed, sealed_key)
            select source, message_id, channel, outcome, lead_id, customer_id, name, phone, email, company,
                   address, message, utm, fields, submitted_at, score, reasons,
                   body_sha256, exchange, routing_key, content_type, key_id, signature, signed_at_ms,
                   decode(sealed, 'hex'), sealed_key
            from jsonb_to_recordset($1::jsonb) as x(source text, message_id text, channel text, outcome text,
                 lead_id uuid, customer_id uuid, name text, phone text, email text, company text, address text,
                 message text, utm jsonb, fields jsonb, submitted_at timestamptz, score float8, reasons jsonb,
                 body_sha256 text, exchange text, routing_key text, content_type text, key_id text, signature text,
                 signed_at_ms bigint, sealed text, sealed_key uuid)
            on conflict (source, message_id) do nothing
            returning 1
            """, [ledger.finish()])
        if inserted.count != accepted.count { throw Conflict() }

        if !plan.newIdentities.isEmpty {
            let sorted = plan.newIdentities.map { (key: stored($0.key), leadID: $0.leadID) }.sorted { $0.key < $1.key }
            let taken = try db.query(
                """
                insert into lead_identities (key, lead_id)
                select k, l from unnest($1::text[], $2::uuid[]) with ordinality as x(k, l, n) order by n
                on conflict (key) do nothing
                returning 1
                """,
                [sorted.map(\.key), sorted.map { text($0.leadID) }])
            if taken.count != sorted.count { throw Conflict() }
        }

        var created = JSONRowsWriter(), updated = JSONRowsWriter()
        for l in plan.leads.values {
            if plan.createdLeadIDs.contains(l.id) {
                Self.leadRow(&created, l, id: text(l.id), customerID: l.customerID.map(text))
            } else {
                Self.leadRow(&updated, l, id: text(l.id), customerID: l.customerID.map(text))
            }
        }
        let columns = """
            x(id uuid, name text, phone text, email text, company text, address text, source text, channel text,
              utm jsonb, fields jsonb, customer_id uuid, owner text, touch_count int, first_seen_at timestamptz,
              last_seen_at timestamptz)
            """
        if created.count > 0 {
            try db.query(
                """
                insert into leads (id, name, phone, email, company, address, source, channel, utm, fields,
                                   customer_id, owner, owned_since, touch_count, first_seen_at, last_seen_at)
                select id, name, phone, email, company, address, source, channel, utm, fields, customer_id,
                       owner, case when owner is not null then now() end, touch_count, first_seen_at, last_seen_at
                from jsonb_to_recordset($1::jsonb) as \(columns)
                """, [created.finish()])
        }
        if updated.count > 0 {
            // The plan never replaces a customer link; a conversion committed while it planned is kept.
            try db.query(
                """
                update leads l set name = x.name, phone = x.phone, email = x.email, company = x.company,
                       address = x.address, utm = x.utm || l.utm, fields = x.fields || l.fields,
                       customer_id = coalesce(l.customer_id, x.customer_id),
                       touch_count = x.touch_count, last_seen_at = x.last_seen_at, updated_at = now()
                from jsonb_to_recordset($1::jsonb) as \(columns)
                where l.id = x.id
                """, [updated.finish()])
        }
        if !plan.newBlockingKeys.isEmpty {
            let sorted = plan.newBlockingKeys.map { (key: stored($0.key), leadID: $0.leadID) }.sorted { $0.key < $1.key }
            try db.query(
                """
                insert into lead_keys (key, lead_id)
                select k, l from unnest($1::text[], $2::uuid[]) as x(k, l)
                on conflict do nothing
                """, [sorted.map(\.key), sorted.map { text($0.leadID) }])
        }
        if !heldRows.isEmpty {
            try db.query(
                """
                insert into lead_ownership (lead_id, rep_id, action, actor, reason)
                select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
                """, [heldRows.map(\.lead), heldRows.map(\.rep), heldRows.map { _ in "assign" }, heldRows.map { _ in "rapport" },
                      heldRows.map(\.reason)])
        }
        if candidatesRows.count > 0 {
            try db.query(
                """
                insert into duplicate_candidates (lead_id, candidate_lead_id, score, reasons, source, message_id)
                select lead_id, candidate_lead_id, score, reasons, source, message_id
                from jsonb_to_recordset($1::jsonb) as x(lead_id uuid, candidate_lead_id uuid, score float8,
                     reasons jsonb, source text, message_id text)
                """, [candidatesRows.finish()])
        }
        if events.count > 0 {
            try Outbox.enqueue(rows: events.finish(), on: db)
        }

    }

    private static func leadRow(_ w: inout JSONRowsWriter, _ l: LeadState, id: String, customerID: String?) {
        w.beginRow()
        w.field("id", id)
        w.field("name", l.name)
        w.field("phone", l.phone)
        w.field("email", l.email)
        w.field("company", l.company)
        w.field("address", l.address)
        w.field("source", l.source)
        w.field("channel", l.channel)
        w.field("utm", json: .object(l.utm))
        w.field("fields", json: .object(l.fields))
        w.field("customer_id", customerID)
        w.field("owner", l.owner)
        w.field("touch_count", l.touchCount)
        w.field("first_seen_at", ISO8601.string(l.firstSeenAt))
        w.field("last_seen_at", ISO8601.string(l.lastSeenAt))
        w.endRow()
    }

    /// One outbox row: `message_id`, `routing_key` and a payload with the common event fields.
    /// Event ids are derived from what happened (a lead is created once; a message warns once), so a
    /// consumer deduplicating on message id also drops a re-sent event.
    private static func event(_ w: inout JSONRowsWriter, _ routingKey: String, id: String, leadID: String,
                              _ s: LeadSubmission, at time: String, extra: (inout JSONRowsWriter) -> Void = { _ in }) {
        w.beginRow()
        w.field("message_id", id)
        w.field("routing_key", routingKey)
        // The payload is a nested object: write it as its own small writer's single row.
        var p = JSONRowsWriter(capacity: 256)
        p.beginRow()
        p.field("event", routingKey)
        p.field("lead_id", leadID)
        p.field("source", s.source)
        p.field("channel", s.channel)
        p.field("message_id", s.messageID)
        p.field("occurred_at", time)
        extra(&p)
        p.endRow()
        w.field("payload", rawJSON: String(p.finish().dropFirst().dropLast()))
        w.endRow()
    }

}
