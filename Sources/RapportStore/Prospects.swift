import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The prospect base (在线搜客): target companies and people from directory exports, apart from customers.
/// The unified social credit code and each normalized phone are unique keys in the database (the
/// `credit_code` unique index, `prospect_phones`' primary key), so a re-import or two imports at once
/// update one prospect instead of racing into two.
public struct Prospects: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// The source name an "add as lead" message carries (`inbound.webform.prospects`).
    public static let leadSource = "prospects"

    /// Adds the prospect, or updates the one with its credit code, or holding one of its phones, or
    /// (for one with neither) of the same name in the same city. Returns its id and whether it is new.
    @discardableResult
    public func upsert(_ r: ProspectRecord, source: String) throws -> (id: UUID, created: Bool) {
        try self.db.transaction {
            let fresh = UUID()
            var target = fresh
            var inserted = false
            if let code = r.creditCode {
                // The unique index decides between concurrent imports: one inserts, the other updates.
                target = try self.db.query(
                    """
                    insert into prospects (id, name, credit_code, source) values ($1::uuid, $2, $3, $4)
                    on conflict (credit_code) do update set updated_at = now() returning id
                    """, [Self.text(fresh), r.name, code, source]).first!.decode("id")
                inserted = target == fresh
            } else if !r.phones.isEmpty {
                // Phones first (the row's foreign key is checked at commit): a phone another prospect holds
                // names the prospect this one is.
                try self.db.query("insert into prospect_phones (phone, prospect_id) select p, $2::uuid from unnest($1::text[]) p on conflict do nothing",
                                  [r.phones, Self.text(fresh)])
                if let holder: UUID = try self.db.query(
                    "select prospect_id from prospect_phones where phone = any($1::text[]) and prospect_id <> $2::uuid order by phone limit 1",
                    [r.phones, Self.text(fresh)]).first?.decode("prospect_id") {
                    try self.db.query("update prospect_phones set prospect_id = $1::uuid where prospect_id = $2::uuid", [Self.text(holder), Self.text(fresh)])
                    target = holder
                }
            } else if let row = try self.db.query(
                "select id from prospects where credit_code is null and name = $1 and city is not distinct from $2 limit 1", [r.name, r.city]).first {
                target = try row.decode("id")
            }
            let created = target == fresh
            try self.write(target, r, source: source, insert: created && !inserted)
            if !r.phones.isEmpty {
                try self.db.query("insert into prospect_phones (phone, prospect_id) select p, $2::uuid from unnest($1::text[]) p on conflict do nothing",
                                  [r.phones, Self.text(target)])
            }
            return (target, created)
        }
    }

    /// Inserts the row, or merges `r` into it: values given replace, values missing are kept, phones
    /// and emails are the union.
    private func write(_ id: UUID, _ r: ProspectRecord, source: String, insert: Bool) throws {
        if insert {
            try self.db.query("insert into prospects (id, name, source) values ($1::uuid, $2, $3)", [Self.text(id), r.name, source])
        }
        let merged = try self.db.query(
            """
            update prospects set kind = $2, name = $3, credit_code = coalesce($4, credit_code), legal_rep = coalesce($5, legal_rep),
                   registered_capital = coalesce($6::numeric, registered_capital), founded_on = coalesce($7::date, founded_on),
                   industry = coalesce($8, industry), province = coalesce($9, province), city = coalesce($10, city),
                   district = coalesce($11, district), size = coalesce($12, size),
                   phones = array(select distinct unnest(phones || $13::text[])), emails = array(select distinct unnest(emails || $14::text[])),
                   website = coalesce($15, website), updated_at = now()
            where id = $1::uuid
            returning kind, name, credit_code, legal_rep, registered_capital::text as capital, founded_on::text as founded, industry,
                      province, city, district, size, phones, emails, website
            """, [Self.text(id), r.kind.rawValue, r.name, r.creditCode, r.legalRep, r.registeredCapital.map { "\($0)" }, r.foundedOn,
                  r.industry, r.province, r.city, r.district, r.size, r.phones, r.emails, r.website]).first!
        // The search columns from the merged row, so a partial re-import keeps what it did not repeat.
        var all = r
        all.legalRep = merged["legal_rep"]
        all.creditCode = merged["credit_code"]
        all.industry = merged["industry"]
        all.province = merged["province"]
        all.city = merged["city"]
        all.district = merged["district"]
        all.website = merged["website"]
        all.phones = try merged.decode("phones")
        all.emails = try merged.decode("emails")
        let doc = all.searchDocument
        try self.db.query("update prospects set search_text = $2, search_tokens = $3 where id = $1::uuid", [Self.text(id), doc.text, doc.tokens])
    }

    /// The prospect as JSON, with the lead it became (when "add as lead" was ingested).
    public func get(_ id: UUID) throws -> JSONValue? {
        guard let text = try self.db.query(
            """
            select (to_jsonb(p) - 'search_text' - 'search_tokens' || jsonb_build_object('lead', (
                select jsonb_build_object('lead_id', g.lead_id, 'outcome', g.outcome, 'received_at', g.received_at)
                from inbound_ledger g where g.source = $2 and g.message_id = 'prospect:' || p.id)))::text as p
            from prospects p where p.id = $1::uuid
            """, [Self.text(id), Self.leadSource]).first?["p"] else { return nil }
        return try JSONValue.parse(Array(text.utf8))
    }

    /// "Add as lead": the prospect goes to `rapport.inbound` as a web form from the source `prospects`,
    /// through the outbox (published when this commits) and then the normal ingest path, so someone
    /// already a lead or customer is matched, never doubled. The message id is `prospect:<id>`: asking
    /// twice is one message to the ledger. Returns the message id.
    @discardableResult
    public func toLead(_ id: UUID, actor: String) throws -> String {
        let m = try self.leadMessage(id, actor: actor)
        let row = JSONValue.array([.object(["message_id": .string(m.messageID), "routing_key": .string(m.routingKey),
                                            "exchange": "rapport.inbound", "payload": m.body])])
        try Outbox.enqueue(rows: row.jsonString, on: self.db)
        return m.messageID
    }

    /// The lead an "add as lead" became, once ingested: its id and the ledger's outcome (`created`,
    /// `merged` into someone already there, …).
    public func leadOutcome(_ id: UUID) throws -> (lead: UUID?, outcome: String)? {
        guard let row = try self.db.query("select lead_id, outcome from inbound_ledger where source = $1 and message_id = $2",
                                          [Self.leadSource, "prospect:\(Self.text(id))"]).first else { return nil }
        return (try row.decodeIfPresent("lead_id"), try row.decode("outcome"))
    }

    /// The inbound message that adds the prospect as a lead: routing key, message id and web-form body.
    func leadMessage(_ id: UUID, actor: String) throws -> (routingKey: String, messageID: String, body: JSONValue) {
        guard let row = try self.db.query(
            "select name, kind, legal_rep, phones, emails, province, city, district, credit_code, industry from prospects where id = $1::uuid",
            [Self.text(id)]).first else {
            throw CustomerError(.notFound, field: "prospect_id", "no prospect \(Self.text(id))")
        }
        let phones: [String] = try row.decode("phones"), emails: [String] = try row.decode("emails")
        guard phones.first != nil || emails.first != nil else {
            throw CustomerError(.invalid, field: "phones", "prospect \(Self.text(id)) has no phone or email to reach")
        }
        let company = row["kind"] == "company"
        var form: [String: JSONValue] = [
            "name": .string((company ? row["legal_rep"] : row["name"]) ?? row["name"] ?? ""),
            "address": .string([row["province"], row["city"], row["district"]].compactMap { $0 }.joined()),
            "fields": .object(["prospect_id": .string(Self.text(id)), "credit_code": .optional(row["credit_code"]),
                               "industry": .optional(row["industry"]), "added_by": .string(actor)]),
            "utm": .object(["utm_source": "prospects"]),
        ]
        if company { form["company"] = .optional(row["name"]) }
        if let p = phones.first { form["phone"] = .string(p) }
        if let e = emails.first { form["email"] = .string(e) }
        return ("inbound.webform.\(Self.leadSource)", "prospect:\(Self.text(id))", .object(form))
    }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}
