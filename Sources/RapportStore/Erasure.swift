import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The erase (§5.5.2, PIPL's right to deletion): a lead or a customer with every lead it came from (and
/// those merged into them) is made unreadable for good.
///
/// In one transaction: the data keys are destroyed (crypto-shredding: every sealed ledger row of the person
/// stays, unreadable), plaintext personal columns are cleared, identity keys, blocking keys, search tokens,
/// contacts, addresses, field history values, merge snapshots, follow-up notes and event payloads about
/// them go, a tombstone is left (ids, time, actor; no personal data), `customer.erased` goes out on
/// `rapport.events` and the audit chain records it. The commit takes the resolution lock, so a batch
/// planned before the erase plans again instead of writing to an erased lead. Afterwards the touched
/// tables are vacuumed, so the old row versions leave the data files.
public struct Erasure: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    public enum Kind: String, Sendable { case lead, customer }

    public struct Result: Sendable, Equatable {
        public var eraseID: UUID
        public var leads: [UUID]
        public var customer: UUID?
        public var keysDestroyed: Int
        /// False when `eraseID` had been applied already (a replayed command, or the erase log after a restore
        /// of a database that already had it).
        public var applied: Bool
    }

    /// Erases `subject`. `eraseID` makes it idempotent: the same id applied twice changes nothing the second time.
    @discardableResult
    /// `vacuum` false inside an enclosing transaction (VACUUM cannot run in one): call ``vacuum()`` after commit.
    public func erase(_ kind: Kind, _ subject: UUID, actor: String, eraseID: UUID = UUID(), vacuum: Bool = true, now: Date = Date()) throws -> Result {
        let result = try self.db.transaction { () throws -> Result in
            try self.db.query("select pg_advisory_xact_lock($1)", [LeadStore.resolutionLock])
            if try !self.db.query("select 1 from erasures where erase_id = $1", [eraseID]).isEmpty {
                return Result(eraseID: eraseID, leads: [], customer: kind == .customer ? subject : nil, keysDestroyed: 0, applied: false)
            }
            let s = subject.uuidString.lowercased()
            let exists: Bool = try self.db.query(
                kind == .lead ? "select exists (select 1 from leads where id = $1::uuid) as e" : "select exists (select 1 from customers where id = $1::uuid) as e",
                [s]).first!.decode("e")
            guard exists else { throw SalesError(.notFound, "no \(kind.rawValue) \(s)") }
            // The leads: the subject (or the customer's), and every lead merged into one of them.
            let leads: [UUID] = try self.db.query(
                """
                with recursive l(id) as (
                    select id from leads where ($1 = 'lead' and id = $2::uuid) or ($1 = 'customer' and customer_id = $2::uuid)
                    union select m.id from leads m join l on m.merged_into = l.id)
                select id from l
                """, [kind.rawValue, s]).map { try $0.decode("id") }
            let ids = leads.map { $0.uuidString.lowercased() }
            let customer: String? = kind == .customer ? s : nil
            let keys: Int = try self.db.query(
                """
                with k as (select id from unnest($1::uuid[]) as x(id)
                           union select sealed_key from inbound_ledger where lead_id = any($1::uuid[]) and sealed_key is not null)
                delete from data_keys d using k where d.id = k.id returning 1
                """, [ids]).count
            try self.db.query(
                """
                update inbound_ledger set name = null, phone = null, email = null, address = null, message = null,
                       fields = fields - array(select jsonb_object_keys(fields) except select $2::text)
                where lead_id = any($1::uuid[])
                """, [ids, LeadSubmission.platformLeadIDKey])
            try self.db.query(
                """
                update leads set name = null, phone = null, email = null, company = null, address = null, fields = '{}',
                       search_text = '', search_tokens = '{}', status = 'erased'
                where id = any($1::uuid[])
                """, [ids])
            try self.db.query("delete from lead_identities where lead_id = any($1::uuid[])", [ids])
            try self.db.query("delete from lead_keys where lead_id = any($1::uuid[])", [ids])
            try self.db.query("delete from duplicate_candidates where lead_id = any($1::uuid[]) or candidate_lead_id = any($1::uuid[])", [ids])
            try self.db.query(
                """
                update lead_merges set winner_before = '{}', loser_before = '{}', loser_identities = '{}', loser_keys = '{}',
                       winner_keys = '{}'
                where winner_lead_id = any($1::uuid[]) or loser_lead_id = any($1::uuid[])
                """, [ids])
            try self.db.query("update followup_plans set note = null where lead_id = any($1::uuid[]) or customer_id = $2::uuid", [ids, customer])
            try self.db.query("update followup_records set outcome = '(erased)', next_step = null where lead_id = any($1::uuid[]) or customer_id = $2::uuid",
                              [ids, customer])
            if let customer {
                try self.db.query(
                    """
                    update customers set name = null, phone = null, email = null, company = null, phones = '{}', emails = '{}',
                           custom = '{}', province = null, city = null, district = null, search_text = '', search_tokens = '{}',
                           deleted_at = coalesce(deleted_at, now())
                    where id = $1::uuid
                    """, [customer])
                try self.db.query("delete from customer_identities where customer_id = $1::uuid", [customer])
                try self.db.query("delete from customer_contacts where customer_id = $1::uuid", [customer])
                try self.db.query("delete from customer_addresses where customer_id = $1::uuid", [customer])
                try self.db.query("update customer_history set old_value = null, new_value = null where customer_id = $1::uuid", [customer])
                try self.db.query("update customer_merges set moved = '{}' where winner_id = $1::uuid or loser_id = $1::uuid", [customer])
            }
            // Events already written about them keep their ids only.
            try self.db.query(
                """
                update outbox set payload = jsonb_build_object('erased', $3::text)
                where payload ->> 'lead_id' = any($1::text[]) or payload ->> 'matched_lead_id' = any($1::text[])
                   or ($2::text is not null and payload ->> 'customer_id' = $2::text)
                """, [ids, customer, eraseID.uuidString.lowercased()])
            try self.db.query("insert into erasures (erase_id, kind, subject, keys, actor, erased_at) values ($1, $2, $3::uuid, $4, $5, $6)",
                              [eraseID, kind.rawValue, s, keys, actor, now])
            let targets = ["\(kind.rawValue):\(s)"] + ids.filter { $0 != s }.map { "lead:\($0)" }
            try AuditLog(db: self.db).append(actor: actor, action: "\(kind.rawValue).erased", targets: targets,
                                             detail: "erase \(eraseID.uuidString.lowercased()); \(keys) data keys destroyed", now: now)
            var event = JSONRowsWriter()
            event.beginRow()
            event.field("message_id", "customer.erased:\(eraseID.uuidString.lowercased())")
            event.field("routing_key", "customer.erased")
            event.field("payload", json: .object([
                "erase_id": .string(eraseID.uuidString.lowercased()), "kind": .string(kind.rawValue), "subject": .string(s),
                "customer_id": customer.map { .string($0) } ?? .null, "lead_ids": .array(ids.map { .string($0) }),
                "erased_at": .string(ISO8601.string(now)),
            ]))
            event.endRow()
            try Outbox.enqueue(rows: event.finish(), on: self.db)
            // Plans in flight that named these leads see them change and plan again.
            try LeadStore.recordCommit(leads.map { (id: $0, touchCount: 0) }, on: self.db)
            return Result(eraseID: eraseID, leads: leads, customer: customer.flatMap(UUID.init(uuidString:)), keysDestroyed: keys, applied: true)
        }
        if result.applied && vacuum { try self.vacuum() }
        return result
    }

    /// Vacuums the tables an erase touches, so the old row versions leave the data files.
    public func vacuum() throws {
        for table in ["data_keys", "inbound_ledger", "leads", "lead_identities", "lead_keys", "lead_merges", "duplicate_candidates",
                      "customers", "customer_identities", "customer_contacts", "customer_addresses", "customer_history",
                      "customer_merges", "followup_plans", "followup_records", "outbox"] {
            try self.db.query("vacuum \(table)")
        }
    }

    /// Erases recorded in the database (`rapport restore` compares them with the erase log).
    public func applied() throws -> Set<UUID> {
        Set(try self.db.query("select erase_id from erasures").map { try $0.decode("erase_id") })
    }
}

/// The erase log beside the KEK file: one line per erase (`<erase id> <lead|customer> <subject id> <time>`),
/// so a restored backup from before an erase is erased again (`rapport restore`).
public enum EraseLog {
    public struct Line: Sendable, Equatable {
        public var eraseID: UUID
        public var kind: Erasure.Kind
        public var subject: UUID
    }

    public static func append(eraseID: UUID, kind: Erasure.Kind, subject: UUID, path: String, now: Date = Date()) throws {
        let line = "\(eraseID.uuidString.lowercased()) \(kind.rawValue) \(subject.uuidString.lowercased()) \(ISO8601.string(now))\n"
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw KeyringError(.kekMissing, "cannot create the erase log \(path)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw KeyringError(.kekMissing, "cannot write the erase log \(path)") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(line.utf8))
        try h.synchronize()
    }

    public static func read(path: String) throws -> [Line] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().compactMap { n, raw in
            let p = raw.split(separator: " ")
            guard p.count >= 3, let id = UUID(uuidString: String(p[0])), let kind = Erasure.Kind(rawValue: String(p[1])),
                  let subject = UUID(uuidString: String(p[2])) else {
                throw KeyringError(.notConfirmed, "\(path):\(n + 1): not an erase log line")
            }
            return Line(eraseID: id, kind: kind, subject: subject)
        }
    }

    /// Applies every logged erase the database does not have (after a restore). Returns how many ran.
    public static func reapply(path: String, db: PGConnection, actor: String = "restore") throws -> Int {
        let erasure = Erasure(db: db)
        let done = try erasure.applied()
        var n = 0
        for line in try Self.read(path: path) where !done.contains(line.eraseID) {
            do {
                try erasure.erase(line.kind, line.subject, actor: actor, eraseID: line.eraseID)
                n += 1
            } catch let e as SalesError where e.code == .notFound {
                continue  // a backup older than the record itself: nothing of it to erase
            }
        }
        return n
    }
}
