import RapportSupport
import Foundation

/// The identity keys a submission can be matched on, e.g. `phone:+8613800138000`, `email:a@b.cn`.
public enum IdentityKey {
    public static func phone(_ e164: String) -> String { "phone:" + e164 }
    public static func email(_ email: String) -> String { "email:" + email }

    /// The keys of a submission, phone first: phone is the stronger identity in Chinese CRM data.
    public static func keys(of s: LeadSubmission) -> [String] {
        var keys: [String] = []
        if let p = s.phone { keys.append(Self.phone(p)) }
        if let e = s.email { keys.append(Self.email(e)) }
        return keys
    }
}

/// A lead as stored: the fields the planner may fill.
public struct LeadState: Sendable, Hashable {
    public var id: UUID
    public var name: String?
    public var phone: String?
    public var email: String?
    public var company: String?
    public var address: String?
    public var source: String
    public var channel: String
    public var utm: [String: JSONValue]
    public var fields: [String: JSONValue]
    public var customerID: UUID?
    /// The rep who owns the lead, if one does.
    public var owner: String?
    public var touchCount: Int
    public var firstSeenAt: Date
    public var lastSeenAt: Date

    public init(id: UUID, name: String? = nil, phone: String? = nil, email: String? = nil, company: String? = nil,
                address: String? = nil, source: String, channel: String, utm: [String: JSONValue] = [:],
                fields: [String: JSONValue] = [:], customerID: UUID? = nil, owner: String? = nil, touchCount: Int = 0,
                firstSeenAt: Date, lastSeenAt: Date) {
        self.id = id
        self.name = name
        self.phone = phone
        self.email = email
        self.company = company
        self.address = address
        self.source = source
        self.channel = channel
        self.utm = utm
        self.fields = fields
        self.customerID = customerID
        self.owner = owner
        self.touchCount = touchCount
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
    }

    /// Fills what is missing from a later submission; never overwrites a value with a blank,
    /// and never replaces a value already held (the touch keeps the later one for history).
    public mutating func absorb(_ s: LeadSubmission, at time: Date) {
        self.name = self.name ?? s.name
        self.phone = self.phone ?? s.phone
        self.email = self.email ?? s.email
        self.company = self.company ?? s.company
        self.address = self.address ?? s.address
        self.utm.merge(s.utm) { old, _ in old }
        self.fields.merge(s.fields) { old, _ in old }
        self.touchCount += 1
        self.lastSeenAt = max(self.lastSeenAt, time)
    }
}

/// A customer that a lead's identity key points at, with the rep who owns it.
public struct CustomerMatch: Sendable, Hashable {
    public var id: UUID
    public var owner: String?
    public var name: String?
    public init(id: UUID, owner: String?, name: String?) {
        self.id = id
        self.owner = owner
        self.name = name
    }
}

/// What happened to one submission.
public enum LeadOutcome: String, Sendable, Hashable, Codable {
    /// A new lead was created.
    case created
    /// The submission was added to an existing lead (same phone or email).
    case merged
    /// The message id was already processed: nothing changed.
    case duplicateMessage = "duplicate_message"
}

/// The decisions for one batch, ready to be written in one transaction.
public struct LeadPlan: Sendable {
    public struct Decision: Sendable, Hashable {
        public var submission: LeadSubmission
        public var outcome: LeadOutcome
        public var leadID: UUID?
        /// The key that matched an existing lead, when merged.
        public var matchedKey: String?
        /// The customer this lead is linked to, when a key matched one.
        public var customer: CustomerMatch?
        public var customerKey: String?
        /// The best candidate's score and the reasons, when there was a candidate.
        public var score: Double?
        public var reasons: [MatchReason] = []
        /// A lead this one may be (between the review and match thresholds): for a person to decide.
        public var possibleDuplicateOf: UUID?
        /// 撞单: the rep who owns the lead this submission merged into or may duplicate. A possible
        /// duplicate of an owned lead goes to that rep rather than to the pool, so no second rep chases
        /// the same person; the rep is warned either way.
        public var ownerWarned: String?
    }

    public var decisions: [Decision] = []
    /// Submissions whose message id was already accepted with another body (`replayed`): not planned.
    public var replayed: [LeadSubmission] = []
    /// Final state of every lead the batch created or changed, by id.
    public var leads: [UUID: LeadState] = [:]
    /// Ids of leads that did not exist before the batch.
    public var createdLeadIDs: Set<UUID> = []
    /// Identity keys to attach to leads (only keys not yet held by any lead).
    public var newIdentities: [(key: String, leadID: UUID)] = []
    /// Blocking keys to index for leads created or changed by the batch.
    public var newBlockingKeys: [(key: String, leadID: UUID)] = []
    /// Profiles of the leads created or changed, for a caller's cache.
    public var profiles: [UUID: MatchProfile] = [:]

    public init() {}
}

/// Deduplication of a batch of submissions against what the database holds: exact identity keys are
/// claimed, and every submission is compared with the leads that share a blocking key with it
/// (``IdentityMatcher``): at or above the match threshold it merges into the best, between the review and
/// match thresholds it becomes a new lead flagged as a possible duplicate, below it is a new lead.
///
/// Pure: the caller reads the candidate leads and customers for the batch's keys and writes the plan back
/// in the same transaction.
public struct LeadPlanner: Sendable {
    public var matcher = IdentityMatcher()
    /// Most candidates compared with one submission. Defaults to `24`.
    public var maxCandidates = 24
    /// False: exact keys only (the same phone or email is the same lead, nothing else is compared). The
    /// spine's behaviour, kept as a switch for shops that want it and as the benchmark's baseline.
    public var fuzzy = true

    public init() {}

    /// Identifying keys (phone, email, national id) before name- and place-based ones.
    static func keyRank(_ key: String) -> Int {
        if key.hasPrefix("p:") || key.hasPrefix("e:") || key.hasPrefix("id:") { return 0 }
        if key.hasPrefix("el:") || key.hasPrefix("b:") { return 1 }
        return 2
    }

    /// Convenience for callers holding leads by identity key: every lead is a candidate, and the keys
    /// that name `phone:`/`email:` identities are taken as held.
    public func plan(_ submissions: [LeadSubmission], processed: Set<String>, leadsByKey: [String: LeadState],
                     customersByKey: [String: CustomerMatch], now: Date,
                     newID: () -> UUID = { UUID() }) -> LeadPlan {
        var unique: [UUID: LeadState] = [:]
        for l in leadsByKey.values { unique[l.id] = l }
        return self.plan(submissions, processed: processed, candidates: Array(unique.values),
                         identityOwners: leadsByKey.mapValues(\.id), customersByKey: customersByKey, now: now, newID: newID)
    }

    /// - Parameters:
    ///   - submissions: in delivery order.
    ///   - processed: `source\u{1F}messageID` of messages already in the ledger.
    ///   - candidates: existing leads sharing a blocking key with some submission.
    ///   - identityOwners: which lead holds each exact identity key (`phone:…`, `email:…`).
    ///   - customersByKey: existing customers by identity key.
    ///   - now: receive time.
    ///   - newID: makes ids for new leads (injectable for tests).
    ///   - submissionProfiles: the submissions' profiles when the caller already made them (same order).
    ///   - profileOf: a lead's profile; callers may answer from a cache keyed by id and touch count.
    public func plan(_ submissions: [LeadSubmission], processed: Set<String>, candidates: [LeadState],
                     identityOwners: [String: UUID], customersByKey: [String: CustomerMatch], now: Date,
                     submissionProfiles: [MatchProfile]? = nil,
                     candidateTouches: [UUID: [MatchProfile]] = [:],
                     profileOf: (LeadState) -> MatchProfile = { MatchProfile($0.personRecord) },
                     newID: () -> UUID = { UUID() }) -> LeadPlan {
        var plan = LeadPlan()
        var seen = processed
        var keyOwner = identityOwners
        var profiles: [UUID: MatchProfile] = [:]
        var index: [String: [UUID]] = [:]
        var indexed: [UUID: Set<String>] = [:]
        func reindex(_ id: UUID, record: Bool, profile: MatchProfile? = nil) {
            guard self.fuzzy else { return }
            let p = profile ?? profileOf(plan.leads[id]!)
            profiles[id] = p
            for k in p.blockingKeys where indexed[id, default: []].insert(k).inserted {
                index[k, default: []].append(id)
                if record { plan.newBlockingKeys.append((k, id)) }
            }
        }
        // Earlier submissions of a lead that differ from what the lead shows (a second phone, another
        // spelling): a new record is compared with each, and found under their keys too.
        var touches = candidateTouches
        func indexTouch(_ p: MatchProfile, of id: UUID, record: Bool) {
            for k in p.blockingKeys where indexed[id, default: []].insert(k).inserted {
                index[k, default: []].append(id)
                if record { plan.newBlockingKeys.append((k, id)) }
            }
        }
        // Callers pass candidates in a stable order (the store reads them by id); keep it for determinism.
        for l in candidates {
            plan.leads[l.id] = l
            reindex(l.id, record: false)
            if self.fuzzy { for t in touches[l.id] ?? [] { indexTouch(t, of: l.id, record: false) } }
        }
        // Leads also stand under the keys they hold as identities (a merged-in phone or email), which
        // their own fields may not show.
        for (k, id) in identityOwners where plan.leads[id] != nil {
            let blockKey = k.hasPrefix("phone:") ? "p:" + k.dropFirst(6) : k.hasPrefix("email:") ? "e:" + k.dropFirst(6) : k
            if indexed[id, default: []].insert(blockKey).inserted { index[blockKey, default: []].append(id) }
        }
        var touched: Set<UUID> = []

        for (n, s) in submissions.enumerated() {
            let ledgerKey = Self.ledgerKey(source: s.source, messageID: s.messageID)
            guard seen.insert(ledgerKey).inserted else {
                plan.decisions.append(.init(submission: s, outcome: .duplicateMessage))
                continue
            }
            let keys = IdentityKey.keys(of: s)
            let time = s.submittedAt ?? now
            var best: (id: UUID, score: MatchScore)?
            if !self.fuzzy {
                var decision: LeadPlan.Decision
                if let k = keys.first(where: { keyOwner[$0] != nil }), let id = keyOwner[k], plan.leads[id] != nil {
                    plan.leads[id]!.absorb(s, at: time)
                    decision = .init(submission: s, outcome: .merged, leadID: id, matchedKey: k)
                    decision.ownerWarned = plan.leads[id]!.owner
                } else {
                    decision = .init(submission: s, outcome: .created, leadID: Self.create(s, at: time, id: newID(), in: &plan))
                }
                plan.decisions.append(self.finish(decision, keys: keys, keyOwner: &keyOwner, plan: &plan,
                                                  customersByKey: customersByKey, touched: &touched))
                continue
            }
            let profile = submissionProfiles?[n] ?? MatchProfile(s.personRecord)
            var considered = Set<UUID>()
            // Strong keys first, and a bounded number of comparisons: a common name in a busy district
            // must not turn one record into thousands of comparisons.
            scan: for k in profile.blockingKeys.sorted(by: { Self.keyRank($0) < Self.keyRank($1) }) {
                for id in index[k] ?? [] where considered.insert(id).inserted {
                    if considered.count > self.maxCandidates { break scan }
                    var sc = self.matcher.compare(profile, profiles[id]!)
                    for t in touches[id] ?? [] {
                        let other = self.matcher.compare(profile, t)
                        if other.score > sc.score { sc = other }
                    }
                    // A phone or email the lead holds as an identity but does not show in its own fields
                    // (it came with a manual merge) is the same evidence as finding it there. Placeholder
                    // phones carry none, and a landline only as much as the matcher gives one.
                    let lead = plan.leads[id]!
                    if profile.phone != nil, let phone = s.phone, phone != lead.phone, keyOwner[IdentityKey.phone(phone)] == id {
                        let w = profile.phoneIsMobile ? 7.0 : 2.5
                        sc.reasons.append(MatchReason(field: "identity", level: "held_phone", weight: w))
                        sc.score += w
                    } else if let e = s.email, profile.email != nil, e != lead.email, keyOwner[IdentityKey.email(e)] == id {
                        sc.reasons.append(MatchReason(field: "identity", level: "held_email", weight: 7))
                        sc.score += 7
                    }
                    // Ties go to the lead considered first: identifying keys, then store order.
                    if best == nil || sc.score > best!.score.score {
                        best = (id, sc)
                    }
                }
            }
            var decision: LeadPlan.Decision
            if let b = best, b.score.score >= self.matcher.matchThreshold {
                plan.leads[b.id]!.absorb(s, at: time)
                decision = .init(submission: s, outcome: .merged, leadID: b.id,
                                 matchedKey: keys.first { keyOwner[$0] == b.id })
            } else {
                decision = .init(submission: s, outcome: .created, leadID: Self.create(s, at: time, id: newID(), in: &plan))
                if let b = best, b.score.score >= self.matcher.reviewThreshold {
                    decision.possibleDuplicateOf = b.id
                    if let owner = plan.leads[b.id]?.owner {
                        plan.leads[decision.leadID!]!.owner = owner
                        decision.ownerWarned = owner
                    }
                }
            }
            if decision.outcome == .merged { decision.ownerWarned = plan.leads[decision.leadID!]?.owner }
            decision.score = best?.score.score
            decision.reasons = best?.score.reasons ?? []
            // A new lead is exactly its first submission; a merged one has changed and is profiled again,
            // and keeps this submission as a touch of its own (and its keys).
            reindex(decision.leadID!, record: true, profile: decision.outcome == .created ? profile : nil)
            if decision.outcome == .merged {
                touches[decision.leadID!, default: []].append(profile)
                indexTouch(profile, of: decision.leadID!, record: true)
            }
            plan.decisions.append(self.finish(decision, keys: keys, keyOwner: &keyOwner, plan: &plan,
                                              customersByKey: customersByKey, touched: &touched))
        }
        plan.leads = plan.leads.filter { touched.contains($0.key) }
        plan.profiles = profiles.filter { touched.contains($0.key) }
        plan.newBlockingKeys = plan.newBlockingKeys.filter { touched.contains($0.leadID) }
        return plan
    }

    /// The ledger's key for a message.
    /// A new lead made of its first submission.
    private static func create(_ s: LeadSubmission, at time: Date, id: UUID, in plan: inout LeadPlan) -> UUID {
        var lead = LeadState(id: id, source: s.source, channel: s.channel, firstSeenAt: time, lastSeenAt: time)
        lead.absorb(s, at: time)
        plan.leads[id] = lead
        plan.createdLeadIDs.insert(id)
        return id
    }

    /// Records the decision's new identity keys and its customer link (撞单: the person is already
    /// someone's customer).
    private func finish(_ decision: LeadPlan.Decision, keys: [String], keyOwner: inout [String: UUID], plan: inout LeadPlan,
                        customersByKey: [String: CustomerMatch], touched: inout Set<UUID>) -> LeadPlan.Decision {
        var decision = decision
        let leadID = decision.leadID!
        touched.insert(leadID)
        for k in keys where keyOwner[k] == nil {
            keyOwner[k] = leadID
            plan.newIdentities.append((k, leadID))
        }
        if let ck = keys.first(where: { customersByKey[$0] != nil }), let customer = customersByKey[ck] {
            decision.customer = customer
            decision.customerKey = ck
            if plan.leads[leadID]!.customerID == nil { plan.leads[leadID]!.customerID = customer.id }
        }
        return decision
    }

    public static func ledgerKey(source: String, messageID: String) -> String { source + "\u{1F}" + messageID }
}

extension LeadSubmission {
    /// What the matcher compares.
    public var personRecord: PersonRecord {
        PersonRecord(id: self.messageID, name: self.name, phone: self.phone, email: self.email, company: self.company,
                     address: self.address, birthDate: self.fields["birth_date"]?.stringValue,
                     nationalID: self.fields["national_id"]?.stringValue)
    }
}

extension LeadState {
    /// What the matcher compares.
    public var personRecord: PersonRecord {
        PersonRecord(id: self.id.uuidString, name: self.name, phone: self.phone, email: self.email, company: self.company,
                     address: self.address, birthDate: self.fields["birth_date"]?.stringValue,
                     nationalID: self.fields["national_id"]?.stringValue)
    }
}
