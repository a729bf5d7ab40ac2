import Foundation
import RapportCore
import RapportPostgres

/// Writes batches of lead submissions to PostgreSQL in one transaction each.
///
/// Concurrency comes from the database: the batch first takes transaction-scoped advisory locks on
/// every identity key and message id it touches, in ascending order (so two batches never deadlock),
/// then reads, plans with ``LeadPlanner`` and writes. Two workers seeing the same person or the same
/// message at once are serialised on those locks.
public struct LeadStore: Sendable {
    public let connection: PGConnection

    public init(connection: PGConnection) {
        self.connection = connection
    }

    /// Processes one batch atomically and returns what happened to each submission.
    @discardableResult
    public func ingest(_ submissions: [LeadSubmission], now: Date = Date()) throws -> LeadPlan {
        guard !submissions.isEmpty else { return LeadPlan() }
        return try self.connection.transaction {
            try self.ingestInTransaction(submissions, now: now)
        }
    }

    private func ingestInTransaction(_ submissions: [LeadSubmission], now: Date) throws -> LeadPlan {
        let db = self.connection
        var keys = Set<String>()
        for s in submissions { keys.formUnion(IdentityKey.keys(of: s)) }
        let keyList = Array(keys)
        var lockKeys = Set(keyList.map(StableHash.fnv1a64))
        for s in submissions { lockKeys.insert(StableHash.fnv1a64("msg:" + LeadPlanner.ledgerKey(source: s.source, messageID: s.messageID))) }
        try db.query(
            "select pg_advisory_xact_lock(k) from (select k from unnest($1::int8[]) as k order by k) s",
            [lockKeys.sorted()])

        var processed = Set<String>()
        let ledger = try db.query(
            """
            select l.source, l.message_id from inbound_ledger l
            join unnest($1::text[], $2::text[]) as m(source, message_id)
              on l.source = m.source and l.message_id = m.message_id
            """,
            [submissions.map(\.source), submissions.map(\.messageID)])
        for row in ledger {
            processed.insert(LeadPlanner.ledgerKey(source: row["source"] ?? "", messageID: row["message_id"] ?? ""))
        }

        var leadsByKey: [String: LeadState] = [:]
        var customersByKey: [String: CustomerMatch] = [:]
        if !keyList.isEmpty {
            let leads = try db.query(
                """
                select i.key, l.id, l.name, l.phone, l.email, l.company, l.address, l.source, l.channel,
                       l.utm::text as utm, l.fields::text as fields, l.customer_id, l.touch_count,
                       l.first_seen_at, l.last_seen_at
                from lead_identities i join leads l on l.id = i.lead_id
                where i.key = any($1::text[])
                """, [keyList])
            for row in leads {
                leadsByKey[try row.decode("key")] = LeadState(
                    id: try row.decode("id"), name: row["name"], phone: row["phone"], email: row["email"],
                    company: row["company"], address: row["address"], source: try row.decode("source"),
                    channel: try row.decode("channel"), utm: Self.object(row["utm"]), fields: Self.object(row["fields"]),
                    customerID: try row.decodeIfPresent("customer_id"), touchCount: try row.decode("touch_count"),
                    firstSeenAt: try row.decode("first_seen_at"), lastSeenAt: try row.decode("last_seen_at"))
            }
            let customers = try db.query(
                """
                select i.key, c.id, c.owner, c.name
                from customer_identities i join customers c on c.id = i.customer_id
                where i.key = any($1::text[])
                """, [keyList])
            for row in customers {
                customersByKey[try row.decode("key")] = CustomerMatch(
                    id: try row.decode("id"), owner: row["owner"], name: row["name"])
            }
        }

        let plan = LeadPlanner().plan(submissions, processed: processed, leadsByKey: leadsByKey,
                                      customersByKey: customersByKey, now: now)
        try self.write(plan, now: now)
        return plan
    }

    private func write(_ plan: LeadPlan, now: Date) throws {
        let db = self.connection
        if !plan.leads.isEmpty {
            let rows: [JSONValue] = plan.leads.values.map { l in
                .object([
                    "id": .string(l.id.uuidString.lowercased()), "name": Self.opt(l.name), "phone": Self.opt(l.phone),
                    "email": Self.opt(l.email), "company": Self.opt(l.company), "address": Self.opt(l.address),
                    "source": .string(l.source), "channel": .string(l.channel), "utm": .object(l.utm),
                    "fields": .object(l.fields),
                    "customer_id": l.customerID.map { .string($0.uuidString.lowercased()) } ?? .null,
                    "touch_count": .number(Double(l.touchCount)),
                    "first_seen_at": .string(Self.iso(l.firstSeenAt)), "last_seen_at": .string(Self.iso(l.lastSeenAt)),
                ])
            }
            try db.query(
                """
                insert into leads (id, name, phone, email, company, address, source, channel, utm, fields,
                                   customer_id, touch_count, first_seen_at, last_seen_at)
                select id, name, phone, email, company, address, source, channel, utm, fields,
                       customer_id, touch_count, first_seen_at, last_seen_at
                from jsonb_to_recordset($1::jsonb) as x(id uuid, name text, phone text, email text, company text,
                     address text, source text, channel text, utm jsonb, fields jsonb, customer_id uuid,
                     touch_count int, first_seen_at timestamptz, last_seen_at timestamptz)
                on conflict (id) do update set
                    name = excluded.name, phone = excluded.phone, email = excluded.email,
                    company = excluded.company, address = excluded.address, utm = excluded.utm,
                    fields = excluded.fields, customer_id = excluded.customer_id,
                    touch_count = excluded.touch_count, last_seen_at = excluded.last_seen_at, updated_at = now()
                """, [JSONValue.array(rows).jsonString])
        }
        if !plan.newIdentities.isEmpty {
            try db.query(
                """
                insert into lead_identities (key, lead_id)
                select k, l from unnest($1::text[], $2::uuid[]) as x(k, l)
                on conflict (key) do nothing
                """,
                [plan.newIdentities.map(\.key), plan.newIdentities.map { $0.leadID.uuidString.lowercased() }])
        }

        var touches: [JSONValue] = [], ledger: [JSONValue] = [], events: [JSONValue] = []
        for d in plan.decisions where d.outcome != .duplicateMessage {
            let s = d.submission
            let leadID = d.leadID!.uuidString.lowercased()
            touches.append(.object([
                "lead_id": .string(leadID), "source": .string(s.source), "message_id": .string(s.messageID),
                "channel": .string(s.channel), "name": Self.opt(s.name), "phone": Self.opt(s.phone),
                "email": Self.opt(s.email), "company": Self.opt(s.company), "address": Self.opt(s.address),
                "message": Self.opt(s.message), "utm": .object(s.utm), "fields": .object(s.fields),
                "submitted_at": s.submittedAt.map { .string(Self.iso($0)) } ?? .null,
            ]))
            ledger.append(.object([
                "source": .string(s.source), "message_id": .string(s.messageID), "channel": .string(s.channel),
                "outcome": .string(d.outcome.rawValue), "lead_id": .string(leadID),
                "customer_id": d.customer.map { .string($0.id.uuidString.lowercased()) } ?? .null,
            ]))
            let base: [String: JSONValue] = [
                "lead_id": .string(leadID), "source": .string(s.source), "channel": .string(s.channel),
                "message_id": .string(s.messageID), "occurred_at": .string(Self.iso(now)),
            ]
            if d.outcome == .created {
                events.append(Self.event("lead.created", base))
            }
            if let c = d.customer {
                var p = base
                p["customer_id"] = .string(c.id.uuidString.lowercased())
                p["owner"] = Self.opt(c.owner)
                p["customer_name"] = Self.opt(c.name)
                p["matched_on"] = .string(String(d.customerKey?.split(separator: ":").first ?? ""))
                events.append(Self.event("customer.duplicate_detected", p))
            }
        }
        if !touches.isEmpty {
            try db.query(
                """
                insert into lead_touches (lead_id, source, message_id, channel, name, phone, email, company,
                                          address, message, utm, fields, submitted_at)
                select lead_id, source, message_id, channel, name, phone, email, company, address, message,
                       utm, fields, submitted_at
                from jsonb_to_recordset($1::jsonb) as x(lead_id uuid, source text, message_id text, channel text,
                     name text, phone text, email text, company text, address text, message text, utm jsonb,
                     fields jsonb, submitted_at timestamptz)
                """, [JSONValue.array(touches).jsonString])
            try db.query(
                """
                insert into inbound_ledger (source, message_id, channel, outcome, lead_id, customer_id)
                select source, message_id, channel, outcome, lead_id, customer_id
                from jsonb_to_recordset($1::jsonb) as x(source text, message_id text, channel text, outcome text,
                     lead_id uuid, customer_id uuid)
                """, [JSONValue.array(ledger).jsonString])
        }
        if !events.isEmpty {
            try Outbox.enqueue(events, on: db)
        }
    }

    static func event(_ routingKey: String, _ payload: [String: JSONValue]) -> JSONValue {
        var p = payload
        p["event"] = .string(routingKey)
        return .object([
            "message_id": .string("evt-" + UUID().uuidString.lowercased()),
            "routing_key": .string(routingKey),
            "payload": .object(p),
        ])
    }

    static func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    static func object(_ text: String?) -> [String: JSONValue] {
        guard let text, let v = try? JSONValue.parse(Array(text.utf8)) else { return [:] }
        return v.objectValue ?? [:]
    }

    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func iso(_ d: Date) -> String { Self.isoStyle.format(d) }
}

/// The transactional outbox: events are rows written with the change, published after commit.
public enum Outbox {
    /// Inserts events (objects with `message_id`, `routing_key`, `payload`) in the caller's transaction.
    public static func enqueue(_ events: [JSONValue], on db: PGConnection) throws {
        try db.query(
            """
            insert into outbox (message_id, routing_key, payload)
            select message_id, routing_key, payload
            from jsonb_to_recordset($1::jsonb) as x(message_id text, routing_key text, payload jsonb)
            on conflict (message_id) do nothing
            """, [JSONValue.array(events).jsonString])
    }
}
