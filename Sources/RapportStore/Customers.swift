import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Customers as people edit them: add (through identity resolution), edit (optimistic, by version),
/// soft delete and restore, merge and unmerge, custom field definitions, and every field change in
/// `customer_history`. Each write keeps identity keys and search tokens in step with the record.
public struct Customers: Sendable {
    public let db: PGConnection
    /// Identity keys are stored blind under the keyring's index (``BlindIndex``); `nil`: in plaintext
    /// (encryption off). Must be what ingest uses, as both read each other's keys.
    public var keyring: Keyring?

    public init(db: PGConnection, keyring: Keyring? = nil) {
        self.db = db
        self.keyring = keyring
    }

    /// Read with a share lock in the caller's transaction, so a reindex cannot slip between lookup and write.
    func index() throws -> BlindIndex { try self.keyring?.currentIndex(db: self.db) ?? .plain }

    /// A customer as stored.
    public struct Stored: Sendable {
        public var id: UUID
        public var record: CustomerRecord
        public var version: Int
        public var deletedAt: Date?
        public var mergedInto: UUID?

        /// The record with its id, version and state, as commands answer.
        public var json: JSONValue {
            var o = self.record.json
            o["id"] = .string(self.id.uuidString.lowercased())
            o["version"] = .number(Double(self.version))
            o["deleted_at"] = self.deletedAt.map { .string(ISO8601.string($0)) } ?? .null
            o["merged_into"] = self.mergedInto.map { .string($0.uuidString.lowercased()) } ?? .null
            return .object(o)
        }
    }

    /// Someone the add found already there.
    public struct Match: Sendable, Hashable {
        /// `customer` or `lead`.
        public var kind: String
        public var id: UUID
        public var owner: String?
        public var name: String?
        /// What matched: an identity key (`phone:+86…`) or `name:` for a company of the same name.
        public var key: String

        public var json: JSONValue {
            .object(["kind": .string(self.kind), "id": .string(self.id.uuidString.lowercased()),
                     "owner": self.owner.map { .string($0) } ?? .null, "name": self.name.map { .string($0) } ?? .null,
                     "matched_on": .string(self.key)])
        }
    }

    public enum AddOutcome: Sendable {
        case created(id: UUID, version: Int)
        /// Already a customer or an owned lead: nothing was created (and the owner was warned, 撞单).
        case matched(Match)
    }

    // MARK: Custom fields

    public func customFields(entity: String = "customer") throws -> CustomFields {
        CustomFields(try self.db.query(
            "select key, label, kind, options, required, max_length from custom_field_definitions where entity = $1 order by key", [entity]).map { row in
            try CustomFieldDefinition(key: try row.decode("key"), label: try row.decode("label"),
                                      kind: CustomFieldDefinition.Kind(rawValue: try row.decode("kind")) ?? .text,
                                      options: try row.decode("options"), required: row["required"] == "t", maxLength: try row.decode("max_length"))
        })
    }

    /// Defines (or redefines) a custom field.
    public func defineField(_ d: CustomFieldDefinition, entity: String = "customer") throws {
        try self.db.query(
            """
            insert into custom_field_definitions (entity, key, label, kind, options, required, max_length) values ($1, $2, $3, $4, $5, $6, $7)
            on conflict (entity, key) do update set label = excluded.label, kind = excluded.kind, options = excluded.options,
                required = excluded.required, max_length = excluded.max_length
            """, [entity, d.key, d.label, d.kind.rawValue, d.options, d.required, d.maxLength])
    }

    /// Adds or renames a customer level (the shop's own scale beside A/B/C); `rank` orders them.
    public func defineLevel(id: String, name: String, rank: Int) throws {
        guard !id.trimmingCharacters(in: .whitespaces).isEmpty, id.count <= 20 else {
            throw CustomerError(.invalid, field: "level_id", "a level id is 1-20 characters")
        }
        try self.db.query("insert into customer_levels (id, name, rank) values ($1, $2, $3) on conflict (id) do update set name = excluded.name, rank = excluded.rank",
                          [id, name, rank])
    }

    /// The levels, best first.
    public func levels() throws -> [(id: String, name: String, rank: Int)] {
        try self.db.query("select id, name, rank from customer_levels order by rank, id").map { (try $0.decode("id"), try $0.decode("name"), try $0.decode("rank")) }
    }

    // MARK: Reading

    static let recordSQL = """
        select c.id, c.version, c.deleted_at, c.merged_into, jsonb_build_object(
            'kind', c.kind, 'name', coalesce(c.name, ''),
            'phones', to_jsonb(case when cardinality(c.phones) = 0 and c.phone is not null then array[c.phone] else c.phones end),
            'emails', to_jsonb(case when cardinality(c.emails) = 0 and c.email is not null then array[c.email] else c.emails end),
            'company', c.company, 'level', c.level, 'industry', c.industry, 'channel', c.source_channel, 'tags', to_jsonb(c.tags),
            'owner', c.owner, 'custom', c.custom,
            'contacts', coalesce((select jsonb_agg(jsonb_build_object('name', t.name, 'title', t.title, 'phones', to_jsonb(t.phones),
                    'emails', to_jsonb(t.emails), 'primary', t.is_primary) order by t.position) from customer_contacts t where t.customer_id = c.id), '[]'),
            'addresses', coalesce((select jsonb_agg(jsonb_build_object('label', a.label, 'province', a.province, 'city', a.city,
                    'district', a.district, 'line', a.line, 'primary', a.is_primary) order by a.position)
                from customer_addresses a where a.customer_id = c.id), '[]'))::text as record
        from customers c where c.id = $1::uuid
        """

    /// The customer, deleted or not; `nil` when there is none. `lock` takes a row lock for a write.
    public func get(_ id: UUID, lock: Bool = false) throws -> Stored? {
        guard let row = try self.db.query(Self.recordSQL + (lock ? " for update of c" : ""), [Self.text(id)]).first else { return nil }
        guard case .object(let o) = try JSONValue.parse(Array((row["record"] ?? "{}").utf8)) else { return nil }
        let record: CustomerRecord
        do { record = try CustomerRecord(json: o) } catch {
            // A legacy row the editor's rules would refuse (a customer converted without a name) still loads.
            var r = CustomerRecord()
            r.name = o["name"]?.stringValue ?? ""
            record = r
        }
        return Stored(id: id, record: record, version: try row.decode("version"), deletedAt: try row.decodeIfPresent("deleted_at"),
                      mergedInto: try row.decodeIfPresent("merged_into"))
    }

    /// Every field change, oldest first.
    public func history(_ id: UUID) throws -> [JSONValue] {
        try self.db.query(
            """
            select version, field, old_value::text as old, new_value::text as new, actor, at from customer_history
            where customer_id = $1::uuid order by id
            """, [Self.text(id)]).map { row in
            func value(_ c: String) -> JSONValue { row[c].flatMap { try? JSONValue.parse(Array($0.utf8)) } ?? .null }
            return .object(["version": .number(Double(try row.decode("version") as Int)), "field": .string(try row.decode("field")),
                            "old": value("old"), "new": value("new"), "actor": .string(try row.decode("actor")),
                            "at": .string(ISO8601.string(try row.decode("at")))])
        }
    }

    // MARK: Writing

    /// Adds a customer. Someone already a customer (same phone or email, or a company of the same name) or
    /// an owned lead comes back as `.matched` and its owner is warned (撞单), unless `differentPerson`.
    public func add(_ patch: [String: JSONValue], differentPerson: Bool = false, actor: String) throws -> AddOutcome {
        let record = try CustomerRecord.applying(patch, to: nil, customFields: try self.customFields())
        return try self.db.transaction {
            try self.check(record, field: nil)
            if !differentPerson, let match = try self.existing(record) {
                if let owner = match.owner {
                    try LeadPool(db: self.db).event("customer.duplicate_detected", id: "customer.duplicate_detected:add:\(UUID().uuidString.lowercased())", [
                        "owner": .string(owner), "matched": match.json, "name": .string(record.name), "actor": .string(actor),
                        "via": .string("customer.add")])
                }
                return .matched(match)
            }
            let id = UUID()
            try self.db.query(
                "insert into customers (id, owner, owned_since) values ($1::uuid, $2, case when $2::text is not null then now() end)",
                [Self.text(id), record.owner])
            try self.write(id, record, version: 1)
            try self.claimKeys(id, record.identityKeys, refuseTaken: false)
            // Unowned leads of the same person become this customer's.
            try self.db.query(
                """
                update leads l set customer_id = $1::uuid, updated_at = now() from lead_identities i
                where i.key = any($2::text[]) and i.lead_id = l.id and l.customer_id is null and l.merged_into is null
                """, [Self.text(id), try self.index()(record.identityKeys)])
            try self.log(id, version: 1, FieldChange.between([:], record.json), actor: actor)
            try LeadPool(db: self.db).event("customer.created", id: "customer.created:\(Self.text(id))", [
                "customer_id": .string(Self.text(id)), "name": .string(record.name), "owner": record.owner.map { .string($0) } ?? .null,
                "actor": .string(actor)])
            return .created(id: id, version: 1)
        }
    }

    /// Applies `patch` to the customer if it is still at `version`; a stale version is refused with
    /// `conflict` and the current record. Returns the new version (the same when nothing changed).
    @discardableResult
    public func edit(_ id: UUID, version: Int, patch: [String: JSONValue], actor: String) throws -> Int {
        try self.db.transaction {
            let stored = try self.live(id)
            guard stored.version == version else {
                throw CustomerError(.conflict, field: "version", "customer \(Self.text(id)) is at version \(stored.version), not \(version)",
                                    current: stored.json)
            }
            let record = try CustomerRecord.applying(patch, to: stored.record, customFields: try self.customFields())
            let changes = FieldChange.between(stored.record.json, record.json)
            guard !changes.isEmpty else { return version }
            try self.check(record, field: nil)
            let next = version + 1
            try self.write(id, record, version: next)
            try self.claimKeys(id, record.identityKeys, refuseTaken: true)
            if record.owner != stored.record.owner {
                try self.db.query(
                    """
                    update customers set owned_since = case when owner is not null then now() end, public_pool_id = case when owner is not null then null else public_pool_id end
                    where id = $1::uuid
                    """, [Self.text(id)])
                try self.db.query("insert into customer_ownership (customer_id, rep_id, action, actor, reason) values ($1::uuid, $2, 'assign', $3, 'edit')",
                                  [Self.text(id), record.owner, actor])
            }
            try self.log(id, version: next, changes, actor: actor)
            try LeadPool(db: self.db).event("customer.updated", id: "customer.updated:\(Self.text(id)):\(next)", [
                "customer_id": .string(Self.text(id)), "version": .number(Double(next)),
                "fields": .array(changes.map { .string($0.field) }), "actor": .string(actor)])
            return next
        }
    }

    /// Soft delete: out of pools, searches and reports, restorable. Returns the new version.
    @discardableResult
    public func delete(_ id: UUID, actor: String, reason: String? = nil) throws -> Int {
        try self.setDeleted(id, true, actor: actor)
    }

    @discardableResult
    public func restore(_ id: UUID, actor: String) throws -> Int {
        try self.setDeleted(id, false, actor: actor)
    }

    private func setDeleted(_ id: UUID, _ deleted: Bool, actor: String) throws -> Int {
        try self.db.transaction {
            guard let stored = try self.get(id, lock: true) else { throw CustomerError(.notFound, field: "customer_id", "no customer \(Self.text(id))") }
            if let winner = stored.mergedInto {
                throw CustomerError(.invalid, field: "customer_id", "customer \(Self.text(id)) was merged into \(Self.text(winner)); unmerge it instead")
            }
            guard (stored.deletedAt != nil) != deleted else { return stored.version }
            if !deleted { try self.claimKeys(id, stored.record.identityKeys, refuseTaken: true) }
            let next = stored.version + 1
            try self.db.query("update customers set deleted_at = case when $2 then now() end, version = $3, updated_at = now() where id = $1::uuid",
                              [Self.text(id), deleted, next])
            try self.log(id, version: next, [FieldChange(field: "deleted", old: .bool(!deleted), new: .bool(deleted))], actor: actor)
            try LeadPool(db: self.db).event(deleted ? "customer.deleted" : "customer.restored", id: "customer.deleted:\(Self.text(id)):\(next)", [
                "customer_id": .string(Self.text(id)), "actor": .string(actor)])
            return next
        }
    }

    // MARK: Merging

    /// What a merge moves from the loser to the winner, by table.
    static let moved: [(table: String, key: String)] = [
        ("leads", "id"), ("customer_contacts", "id"), ("customer_addresses", "id"), ("opportunities", "id"), ("orders", "id"),
        ("contracts", "id"), ("followup_plans", "id"), ("followup_records", "id"),
    ]

    /// Merges `loser` into `winner`: the loser's leads, contacts, addresses, pipeline, follow-ups and identities
    /// move; its phones and emails join the winner's; the loser is kept (deleted, `merged_into`) so an
    /// unmerge can put everything back. Returns the merge id.
    @discardableResult
    public func merge(winner: UUID, loser: UUID, actor: String, reason: String?) throws -> Int64 {
        guard winner != loser else { throw CustomerError(.invalid, field: "loser_id", "a customer cannot be merged into itself") }
        return try self.db.transaction {
            // Both rows locked in id order, so two merges of the same pair cannot deadlock.
            let ids = [winner, loser].sorted { Self.text($0) < Self.text($1) }
            var rows: [UUID: Stored] = [:]
            for id in ids { rows[id] = try self.live(id) }
            let (w, l) = (rows[winner]!, rows[loser]!)
            var moved: [String: JSONValue] = [:]
            for (table, key) in Self.moved {
                let ids = try self.db.query("update \(table) set customer_id = $1::uuid where customer_id = $2::uuid returning \(key)::text as k",
                                            [Self.text(winner), Self.text(loser)]).map { try $0.decode("k") as String }
                moved[table] = .array(ids.map { .string($0) })
            }
            let keys = try self.db.query("update customer_identities set customer_id = $1::uuid where customer_id = $2::uuid returning key",
                                         [Self.text(winner), Self.text(loser)]).map { try $0.decode("key") as String }
            moved["identities"] = .array(keys.map { .string($0) })
            let phones = l.record.phones.filter { !w.record.phones.contains($0) }
            let emails = l.record.emails.filter { !w.record.emails.contains($0) }
            moved["phones"] = .array(phones.map { .string($0) })
            moved["emails"] = .array(emails.map { .string($0) })
            let mergeID: Int64 = try self.db.query(
                "insert into customer_merges (winner_id, loser_id, actor, reason, moved) values ($1::uuid, $2::uuid, $3, $4, $5::jsonb) returning id",
                [Self.text(winner), Self.text(loser), actor, reason, JSONValue.object(moved).jsonString]).first!.decode("id")
            try self.db.query("update customers set merged_into = $1::uuid, deleted_at = now(), version = version + 1, updated_at = now() where id = $2::uuid",
                              [Self.text(winner), Self.text(loser)])
            var record = try self.get(winner)!.record
            record.phones += phones
            record.emails += emails
            try self.columns(winner, record, version: w.version + 1)
            try self.log(winner, version: w.version + 1, [FieldChange(field: "merged", old: nil, new: .string(Self.text(loser)))], actor: actor)
            try self.log(loser, version: l.version + 1, [FieldChange(field: "merged_into", old: nil, new: .string(Self.text(winner)))], actor: actor)
            try LeadPool(db: self.db).event("customer.merged", id: "customer.merged:\(mergeID)", [
                "merge_id": .number(Double(mergeID)), "winner_id": .string(Self.text(winner)), "loser_id": .string(Self.text(loser)),
                "actor": .string(actor)])
            return mergeID
        }
    }

    /// Undoes a merge: what moved goes back, the loser lives again. Returns the loser's id.
    @discardableResult
    public func unmerge(_ mergeID: Int64, actor: String) throws -> UUID {
        try self.db.transaction {
            guard let row = try self.db.query(
                "select winner_id, loser_id, moved::text as moved from customer_merges where id = $1 and unmerged_at is null for update",
                [mergeID]).first else {
                throw CustomerError(.notFound, field: "merge_id", "no live customer merge \(mergeID)")
            }
            let (winner, loser): (UUID, UUID) = (try row.decode("winner_id"), try row.decode("loser_id"))
            guard case .object(let moved) = try JSONValue.parse(Array((row["moved"] ?? "{}").utf8)) else { return loser }
            func list(_ k: String) -> [String] {
                if case .array(let a)? = moved[k] { return a.compactMap(\.stringValue) }
                return []
            }
            let w = try self.live(winner)
            for (table, key) in Self.moved {
                try self.db.query("update \(table) set customer_id = $1::uuid where \(key)::text = any($2::text[]) and customer_id = $3::uuid",
                                  [Self.text(loser), list(table), Self.text(winner)])
            }
            try self.db.query("update customer_identities set customer_id = $1::uuid where key = any($2::text[]) and customer_id = $3::uuid",
                              [Self.text(loser), list("identities"), Self.text(winner)])
            try self.db.query("update customer_merges set unmerged_at = now(), unmerged_by = $2 where id = $1", [mergeID, actor])
            try self.db.query("update customers set merged_into = null, deleted_at = null, version = version + 1, updated_at = now() where id = $1::uuid",
                              [Self.text(loser)])
            // Read after the moves: the winner's contacts and addresses are now its own again.
            var record = try self.get(winner)!.record
            record.phones.removeAll { list("phones").contains($0) }
            record.emails.removeAll { list("emails").contains($0) }
            try self.columns(winner, record, version: w.version + 1)
            try self.reindex(loser)
            let l = try self.get(loser)!
            try self.log(winner, version: w.version + 1, [FieldChange(field: "merged", old: .string(Self.text(loser)), new: nil)], actor: actor)
            try self.log(loser, version: l.version, [FieldChange(field: "merged_into", old: .string(Self.text(winner)), new: nil)], actor: actor)
            try LeadPool(db: self.db).event("customer.unmerged", id: "customer.unmerged:\(mergeID)", [
                "merge_id": .number(Double(mergeID)), "winner_id": .string(Self.text(winner)), "loser_id": .string(Self.text(loser)),
                "actor": .string(actor)])
            return loser
        }
    }

    /// Rewrites a customer's derived columns (phones, emails, place, search text and tokens) from what
    /// is stored: after a conversion from a lead or a merge moved its contacts.
    public func reindex(_ id: UUID) throws {
        guard let s = try self.get(id) else { return }
        try self.columns(id, s.record, version: s.version)
    }

    // MARK: Internals

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }

    /// The customer, locked, refusing one that does not exist or is deleted.
    private func live(_ id: UUID) throws -> Stored {
        guard let s = try self.get(id, lock: true) else { throw CustomerError(.notFound, field: "customer_id", "no customer \(Self.text(id))") }
        guard s.deletedAt == nil else {
            throw CustomerError(.notFound, field: "customer_id", "customer \(Self.text(id)) is deleted" + (s.mergedInto.map { " (merged into \(Self.text($0)))" } ?? ""))
        }
        return s
    }

    /// What only the database knows: the level is one the shop uses, the owner is a rep.
    private func check(_ r: CustomerRecord, field: String?) throws {
        if try self.db.query("select 1 from customer_levels where id = $1", [r.level]).isEmpty {
            throw CustomerError(.invalid, field: "level", "no customer level \(r.level)")
        }
        if let owner = r.owner, try self.db.query("select 1 from reps where id = $1", [owner]).isEmpty {
            throw CustomerError(.invalid, field: "owner", "no rep \(owner)")
        }
    }

    /// A live customer holding one of the record's identity keys (or a company of the same name), else
    /// an owned lead holding one.
    private func existing(_ r: CustomerRecord) throws -> Match? {
        let stored = try self.index().map(r.identityKeys)
        let keys = Array(stored.keys)
        func key(_ row: PGRow) throws -> String { let k: String = try row.decode("key"); return stored[k] ?? k }
        if let row = try self.db.query(
            """
            select i.key, c.id, c.owner, c.name from customer_identities i join customers c on c.id = i.customer_id
            where i.key = any($1::text[]) and c.deleted_at is null
            union all
            select 'name:' || c.name, c.id, c.owner, c.name from customers c
            where $2::text is not null and c.kind = 'company' and c.name = $2 and c.deleted_at is null
            limit 1
            """, [keys, r.kind == .company ? r.name : nil]).first {
            return Match(kind: "customer", id: try row.decode("id"), owner: row["owner"], name: row["name"], key: try key(row))
        }
        if let row = try self.db.query(
            """
            select i.key, l.id, l.owner, l.name from lead_identities i join leads l on l.id = i.lead_id
            where i.key = any($1::text[]) and l.owner is not null and l.merged_into is null limit 1
            """, [keys]).first {
            return Match(kind: "lead", id: try row.decode("id"), owner: row["owner"], name: row["name"], key: try key(row))
        }
        return nil
    }

    /// Gives the customer exactly `keys`. A key another live customer holds is refused (`refuseTaken`, an
    /// edit or restore: two customers cannot share a phone) or left with it (an add the caller confirmed).
    private func claimKeys(_ id: UUID, _ plain: [String], refuseTaken: Bool) throws {
        let stored = try self.index().map(plain)
        let keys = Array(stored.keys)
        if refuseTaken, let row = try self.db.query(
            """
            select i.key, i.customer_id::text as other from customer_identities i join customers c on c.id = i.customer_id
            where i.key = any($1::text[]) and i.customer_id <> $2::uuid and c.deleted_at is null limit 1
            """, [keys, Self.text(id)]).first {
            let blind: String = try row.decode("key"), other: String = try row.decode("other")
            let key = stored[blind] ?? blind
            throw CustomerError(.invalid, field: key.hasPrefix("phone:") ? "phones" : "emails",
                                "\(key.drop { $0 != ":" }.dropFirst()) belongs to customer \(other)")
        }
        try self.db.query("delete from customer_identities where customer_id = $1::uuid and not (key = any($2::text[]))", [Self.text(id), keys])
        // A deleted customer's key passes to the one that now claims it.
        try self.db.query(
            """
            insert into customer_identities (key, customer_id) select k, $1::uuid from unnest($2::text[]) as k
            on conflict (key) do update set customer_id = excluded.customer_id
            where (select deleted_at from customers where id = customer_identities.customer_id) is not null
            """, [Self.text(id), keys])
    }

    /// Writes the record: the row, its contacts and addresses, and the derived columns.
    private func write(_ id: UUID, _ r: CustomerRecord, version: Int) throws {
        try self.db.query("delete from customer_contacts where customer_id = $1::uuid", [Self.text(id)])
        try self.db.query("delete from customer_addresses where customer_id = $1::uuid", [Self.text(id)])
        if !r.contacts.isEmpty {
            let c = r.contacts
            try self.db.query(
                """
                insert into customer_contacts (id, customer_id, name, title, phones, emails, is_primary, position)
                select gen_random_uuid(), $1::uuid, n, nullif(t, ''), (select coalesce(array_agg(x), '{}') from jsonb_array_elements_text(p::jsonb) x),
                       (select coalesce(array_agg(x), '{}') from jsonb_array_elements_text(e::jsonb) x), pr, o
                from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::int[]) as u(n, t, p, e, pr, o)
                """, [Self.text(id), c.map(\.name), c.map { $0.title ?? "" }, c.map { JSONValue.array($0.phones.map { .string($0) }).jsonString },
                      c.map { JSONValue.array($0.emails.map { .string($0) }).jsonString }, c.map(\.primary), Array(c.indices)])
        }
        if !r.addresses.isEmpty {
            let a = r.addresses
            func col(_ k: KeyPath<CustomerRecord.Address, String?>) -> [String] { a.map { $0[keyPath: k] ?? "" } }
            try self.db.query(
                """
                insert into customer_addresses (id, customer_id, label, province, city, district, line, is_primary, position)
                select gen_random_uuid(), $1::uuid, nullif(l, ''), nullif(p, ''), nullif(c, ''), nullif(d, ''), nullif(x, ''), pr, o
                from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::int[]) as u(l, p, c, d, x, pr, o)
                """, [Self.text(id), col(\.label), col(\.province), col(\.city), col(\.district), col(\.line), a.map(\.primary), Array(a.indices)])
        }
        try self.columns(id, r, version: version)
    }

    /// The customer row's own columns, derived ones included.
    private func columns(_ id: UUID, _ r: CustomerRecord, version: Int) throws {
        let doc = r.searchDocument
        let place = r.primaryAddress
        try self.db.query(
            """
            update customers set kind = $2, name = $3, phone = $4, email = $5, phones = $6, emails = $7, company = $8, level = $9,
                   industry = $10, source_channel = $11, tags = $12, owner = $13, custom = $14::jsonb, province = $15, city = $16,
                   district = $17, search_text = $18, search_tokens = $19, version = $20, updated_at = now()
            where id = $1::uuid
            """, [Self.text(id), r.kind.rawValue, r.name, r.phones.first, r.emails.first, r.phones, r.emails, r.company, r.level,
                  r.industry, r.channel, r.tags, r.owner, JSONValue.object(r.custom).jsonString, place?.province, place?.city,
                  place?.district, doc.text, doc.tokens, version])
    }

    private func log(_ id: UUID, version: Int, _ changes: [FieldChange], actor: String) throws {
        guard !changes.isEmpty else { return }
        try self.db.query(
            """
            insert into customer_history (customer_id, version, field, old_value, new_value, actor)
            select $1::uuid, $2, f, nullif(o, '')::jsonb, nullif(n, '')::jsonb, $6 from unnest($3::text[], $4::text[], $5::text[]) as u(f, o, n)
            """, [Self.text(id), version, changes.map(\.field), changes.map { $0.old?.jsonString ?? "" },
                  changes.map { $0.new?.jsonString ?? "" }, actor])
        // The chain records that the record changed and which fields, never their values.
        try AuditLog(db: self.db).append(actor: actor, action: version == 1 ? "customer.add" : "customer.change",
                                         targets: [Self.text(id)], detail: "version \(version): " + changes.map(\.field).sorted().joined(separator: ","))
    }
}

extension CustomerError: CommandRefusal {
    public var rejection: InboundRejection {
        InboundRejection(code: RejectionCode(rawValue: self.code.rawValue), reason: self.message, field: self.field)
    }
    /// A stale version or a bad value is an answer to the caller, not a lost message.
    public var deadLetter: Bool { false }
    public var detail: JSONValue? { self.current }
}
