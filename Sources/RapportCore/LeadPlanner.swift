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
    public var touchCount: Int
    public var firstSeenAt: Date
    public var lastSeenAt: Date

    public init(id: UUID, name: String? = nil, phone: String? = nil, email: String? = nil, company: String? = nil,
                address: String? = nil, source: String, channel: String, utm: [String: JSONValue] = [:],
                fields: [String: JSONValue] = [:], customerID: UUID? = nil, touchCount: Int = 0,
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
    }

    public var decisions: [Decision] = []
    /// Final state of every lead the batch created or changed, by id.
    public var leads: [UUID: LeadState] = [:]
    /// Ids of leads that did not exist before the batch.
    public var createdLeadIDs: Set<UUID> = []
    /// Identity keys to attach to leads (only keys not yet held by any lead).
    public var newIdentities: [(key: String, leadID: UUID)] = []

    public init() {}
}

/// Exact-key deduplication of a batch of submissions against what the database holds.
///
/// Pure: the caller reads the existing leads and customers for the batch's keys (under locks on those
/// keys) and writes the plan back in the same transaction.
public struct LeadPlanner: Sendable {
    public init() {}

    /// - Parameters:
    ///   - submissions: in delivery order.
    ///   - processed: `source\u{1F}messageID` of messages already in the ledger.
    ///   - leadsByKey: existing leads by identity key.
    ///   - customersByKey: existing customers by identity key.
    ///   - now: receive time.
    ///   - newID: makes ids for new leads (injectable for tests).
    public func plan(_ submissions: [LeadSubmission], processed: Set<String>, leadsByKey: [String: LeadState],
                     customersByKey: [String: CustomerMatch], now: Date,
                     newID: () -> UUID = { UUID() }) -> LeadPlan {
        var plan = LeadPlan()
        var seen = processed
        var keyOwner: [String: UUID] = leadsByKey.mapValues(\.id)
        for lead in leadsByKey.values { plan.leads[lead.id] = lead }
        var touched: Set<UUID> = []

        for s in submissions {
            let ledgerKey = Self.ledgerKey(source: s.source, messageID: s.messageID)
            guard seen.insert(ledgerKey).inserted else {
                plan.decisions.append(.init(submission: s, outcome: .duplicateMessage))
                continue
            }
            let keys = IdentityKey.keys(of: s)
            let time = s.submittedAt ?? now
            var decision: LeadPlan.Decision
            if let matchedKey = keys.first(where: { keyOwner[$0] != nil }), let id = keyOwner[matchedKey] {
                plan.leads[id]!.absorb(s, at: time)
                decision = .init(submission: s, outcome: .merged, leadID: id, matchedKey: matchedKey)
            } else {
                let id = newID()
                var lead = LeadState(id: id, source: s.source, channel: s.channel, firstSeenAt: time, lastSeenAt: time)
                lead.absorb(s, at: time)
                plan.leads[id] = lead
                plan.createdLeadIDs.insert(id)
                decision = .init(submission: s, outcome: .created, leadID: id)
            }
            let leadID = decision.leadID!
            touched.insert(leadID)
            for k in keys where keyOwner[k] == nil {
                keyOwner[k] = leadID
                plan.newIdentities.append((k, leadID))
            }
            // 撞单: the same person is already someone's customer.
            if let ck = keys.first(where: { customersByKey[$0] != nil }), let customer = customersByKey[ck] {
                decision.customer = customer
                decision.customerKey = ck
                if plan.leads[leadID]!.customerID == nil { plan.leads[leadID]!.customerID = customer.id }
            }
            plan.decisions.append(decision)
        }
        plan.leads = plan.leads.filter { touched.contains($0.key) }
        return plan
    }

    /// The ledger's key for a message.
    public static func ledgerKey(source: String, messageID: String) -> String { source + "\u{1F}" + messageID }
}
