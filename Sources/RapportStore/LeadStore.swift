import Foundation
import Synchronization
import RapportCore
import RapportSupport
import RapportPostgres

/// Writes batches of lead submissions to PostgreSQL in one transaction each.
///
/// Concurrency comes from the database, optimistically: a batch reads the leads its keys point at
/// (locking those rows), plans with ``LeadPlanner``, and writes ledger rows and new identity keys with
/// `on conflict do nothing`, in key order. If another transaction took one of those message ids or keys
/// in the meantime, fewer rows come back than planned: the batch rolls back and is planned again, now
/// seeing the other's commit. No advisory locks, so no lock-table growth with batch size.
public struct LeadStore: Sendable {
    public let connection: PGConnection
    /// Match profiles of leads seen before, so candidates need not be profiled again. Defaults to none.
    public var profileCache: ProfileCache?
    /// How often a batch is re-planned after losing a race before giving up (as a transient error).
    public var maxConflictRetries = 8
    /// False: exact keys only (see ``LeadPlanner/fuzzy``); no blocking keys, no profiles, no global lock.
    public var fuzzy = true

    public init(connection: PGConnection, profileCache: ProfileCache? = nil) {
        self.connection = connection
        self.profileCache = profileCache
    }

    /// Another transaction claimed a message id or identity key this batch planned to take.
    struct Conflict: Error {}

    /// Processes one batch atomically and returns what happened to each submission.
    @discardableResult
    public func ingest(_ submissions: [LeadSubmission], now: Date = Date()) throws -> LeadPlan {
        guard !submissions.isEmpty else { return LeadPlan() }
        // Profiled before the transaction: pure CPU that other consumers' batches can overlap, instead of
        // time spent holding the resolution lock.
        let profiles = self.fuzzy ? submissions.map { MatchProfile($0.personRecord) } : []
        var attempt = 0
        while true {
            do {
                return try self.connection.transaction {
                    try self.ingestInTransaction(submissions, profiles: profiles, now: now)
                }
            } catch is Conflict where attempt < self.maxConflictRetries {
                attempt += 1
            } catch is Conflict {
                throw PGError(.query, message: "batch lost \(attempt) races for the same keys; will retry", sqlState: "40001")
            }
        }
    }

    /// Transaction-scoped lock that serialises identity decisions across workers, so two copies of one
    /// person arriving together (even sharing no phone or email) are judged one after the other.
    static let resolutionLock: Int64 = 0x5241_5050_4f52_5431  // "RAPPORT1"

    /// Candidates per blocking key at most: a key shared by more leads says little and costs much.
    static let maxCandidatesPerKey = 16
    /// Earlier submissions of a merged candidate compared besides the lead itself (the latest ones).
    static let touchesPerCandidate = 4

    private func ingestInTransaction(_ submissions: [LeadSubmission], profiles: [MatchProfile], now: Date) throws -> LeadPlan {
        // Exact keys need no lock: two writers of one key collide on lead_identities and one re-plans.
        if self.fuzzy { try self.connection.query("select pg_advisory_xact_lock($1)", [Self.resolutionLock]) }
        let (plan, readTouchCounts) = try self.planReading(submissions, profiles: profiles, now: now)
        // Lock only the leads this batch changes, and only if nobody changed them since they were read;
        // else plan again. (Locking every candidate dirtied thousands of rows per batch for nothing.)
        let changed = plan.leads.keys.filter { !plan.createdLeadIDs.contains($0) }.sorted { $0.uuidString < $1.uuidString }
        if !changed.isEmpty {
            let locked = try self.connection.query(
                "select id, touch_count from leads where id = any($1::uuid[]) and merged_into is null order by id for update",
                [changed.map { $0.uuidString.lowercased() }])
            guard locked.count == changed.count else { throw Conflict() }
            for row in locked where try readTouchCounts[row.decode("id", as: UUID.self)] != row.decode("touch_count", as: Int.self) {
                throw Conflict()
            }
        }
        try self.write(plan, now: now)
        // Cached only once written; a rolled-back batch leaves stale entries, which the touch count exposes.
        if let cache = self.profileCache {
            for (id, p) in plan.profiles { cache.store(p, id: id, touchCount: plan.leads[id]?.touchCount ?? 0) }
        }
        return plan
    }

    /// What ``ingest(_:now:)`` would decide for these submissions, without writing anything: reads the
    /// ledger, the identity owners and the candidates, and plans.
    public func plan(_ submissions: [LeadSubmission], now: Date = Date()) throws -> LeadPlan {
        try self.planReading(submissions, profiles: self.fuzzy ? submissions.map { MatchProfile($0.personRecord) } : [], now: now).plan
    }

    /// The plan, and the touch count of every lead as it was read (to detect a concurrent change).
    /// `profiles` are the submissions' match profiles (empty for exact matching).
    private func planReading(_ submissions: [LeadSubmission], profiles: [MatchProfile],
                             now: Date) throws -> (plan: LeadPlan, touchCounts: [UUID: Int]) {
        let db = self.connection
        var identityKeys = Set<String>()
        var blockingKeys = Set<String>()
        for s in submissions { identityKeys.formUnion(IdentityKey.keys(of: s)) }
        for p in profiles { blockingKeys.formUnion(p.blockingKeys) }
        let keyList = Array(identityKeys)

        // One round trip for what the batch already is: messages seen before, identity keys' owners and
        // customers. (Each query is a network round trip; one record's decision makes only two.)
        var processed = Set<String>()
        var owners: [String: UUID] = [:]
        var customersByKey: [String: CustomerMatch] = [:]
        for row in try db.query(
            """
            select 'm' as kind, l.source || chr(31) || l.message_id as k, null::uuid as id, null::text as owner, null::text as name
            from inbound_ledger l join unnest($1::text[], $2::text[]) as m(source, message_id)
              on l.source = m.source and l.message_id = m.message_id
            union all
            select 'i', i.key, i.lead_id, null, null from unnest($3::text[]) as k(key) join lead_identities i on i.key = k.key
            union all
            select 'c', i.key, c.id, c.owner, c.name
            from unnest($3::text[]) as k(key) join customer_identities i on i.key = k.key join customers c on c.id = i.customer_id
            """, [submissions.map(\.source), submissions.map(\.messageID), keyList]) {
            let key: String = try row.decode("k")
            switch row["kind"] {
            case "m": processed.insert(key)
            case "i": owners[key] = try row.decode("id")
            default: customersByKey[key] = CustomerMatch(id: try row.decode("id"), owner: row["owner"], name: row["name"])
            }
        }

        var candidates: [LeadState] = []
        if !blockingKeys.isEmpty || !owners.isEmpty {
            let leads = try db.query(
                """
                select l.id, l.name, l.phone, l.email, l.company, l.address, l.source, l.channel,
                       l.fields->>'birth_date' as birth_date, l.fields->>'national_id' as national_id,
                       l.customer_id, l.owner, l.touch_count, l.first_seen_at, l.last_seen_at
                from leads l
                where l.id in (
                    select c.lead_id from unnest($1::text[]) as k(key)
                    cross join lateral (select lead_id from lead_keys where key = k.key limit $2) c
                    union select unnest($3::uuid[]))
                  and l.merged_into is null
                order by l.id
                """, [Array(blockingKeys), Self.maxCandidatesPerKey, owners.values.map { $0.uuidString.lowercased() }])
            for row in leads {
                // Of utm and fields only what the matcher reads: the update merges the rest in SQL.
                var fields: [String: JSONValue] = [:]
                for key in ["birth_date", "national_id"] { if let v = row[key] { fields[key] = .string(v) } }
                candidates.append(LeadState(
                    id: try row.decode("id"), name: row["name"], phone: row["phone"], email: row["email"],
                    company: row["company"], address: row["address"], source: try row.decode("source"),
                    channel: try row.decode("channel"), utm: [:], fields: fields,
                    customerID: try row.decodeIfPresent("customer_id"), owner: row["owner"], touchCount: try row.decode("touch_count"),
                    firstSeenAt: try row.decode("first_seen_at"), lastSeenAt: try row.decode("last_seen_at")))
            }
        }

        // Earlier submissions of merged candidates, the latest few, where they differ from the lead.
        var touches: [UUID: [MatchProfile]] = [:]
        let merged = candidates.filter { $0.touchCount > 1 }
        if self.fuzzy && !merged.isEmpty {
            let byID = Dictionary(merged.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for row in try db.query(
                """
                select lead_id, name, phone, email, company, address, birth_date, national_id from (
                    select lead_id, name, phone, email, company, address, fields->>'birth_date' as birth_date,
                           fields->>'national_id' as national_id,
                           row_number() over (partition by lead_id order by received_at desc) as n
                    from inbound_ledger where lead_id = any($1::uuid[])) t
                where n <= $2
                """, [merged.map { $0.id.uuidString.lowercased() }, Self.touchesPerCandidate]) {
                let id: UUID = try row.decode("lead_id")
                guard let lead = byID[id] else { continue }
                let r = PersonRecord(id: id.uuidString, name: row["name"], phone: row["phone"], email: row["email"], company: row["company"],
                                     address: row["address"], birthDate: row["birth_date"], nationalID: row["national_id"])
                if r.name == lead.name && r.phone == lead.phone && r.email == lead.email && r.company == lead.company && r.address == lead.address {
                    continue
                }
                touches[id, default: []].append(MatchProfile(r))
            }
        }
        let cache = self.profileCache
        var planner = LeadPlanner()
        planner.fuzzy = self.fuzzy
        let touchCounts = Dictionary(candidates.map { ($0.id, $0.touchCount) }, uniquingKeysWith: { a, _ in a })
        return (planner.plan(
            submissions, processed: processed, candidates: candidates, identityOwners: owners,
            customersByKey: customersByKey, now: now, submissionProfiles: self.fuzzy ? profiles : nil, candidateTouches: touches,
            profileOf: { lead in cache?.profile(of: lead) ?? MatchProfile(lead.personRecord) }), touchCounts)
    }

    private func write(_ plan: LeadPlan, now: Date) throws {
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
            ledger.field("name", s.name)
            ledger.field("phone", s.phone)
            ledger.field("email", s.email)
            ledger.field("company", s.company)
            ledger.field("address", s.address)
            ledger.field("message", s.message)
            ledger.field("utm", json: .object(s.utm))
            ledger.field("fields", json: .object(s.fields))
            ledger.field("submitted_at", s.submittedAt.map(ISO8601.string))
            ledger.field("score", d.score.map { String(format: "%.2f", $0) })
            let reasons = JSONValue.array(d.reasons.map { .string($0.description) })
            ledger.field("reasons", json: reasons)
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
                                        email, company, address, message, utm, fields, submitted_at, score, reasons)
            select source, message_id, channel, outcome, lead_id, customer_id, name, phone, email, company,
                   address, message, utm, fields, submitted_at, score, reasons
            from jsonb_to_recordset($1::jsonb) as x(source text, message_id text, channel text, outcome text,
                 lead_id uuid, customer_id uuid, name text, phone text, email text, company text, address text,
                 message text, utm jsonb, fields jsonb, submitted_at timestamptz, score float8, reasons jsonb)
            on conflict (source, message_id) do nothing
            returning 1
            """, [ledger.finish()])
        if inserted.count != accepted.count { throw Conflict() }

        if !plan.newIdentities.isEmpty {
            let sorted = plan.newIdentities.sorted { $0.key < $1.key }
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
            try db.query(
                """
                update leads l set name = x.name, phone = x.phone, email = x.email, company = x.company,
                       address = x.address, utm = x.utm || l.utm, fields = x.fields || l.fields, customer_id = x.customer_id,
                       touch_count = x.touch_count, last_seen_at = x.last_seen_at, updated_at = now()
                from jsonb_to_recordset($1::jsonb) as \(columns)
                where l.id = x.id
                """, [updated.finish()])
        }
        if !plan.newBlockingKeys.isEmpty {
            let sorted = plan.newBlockingKeys.sorted { $0.key < $1.key }
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
