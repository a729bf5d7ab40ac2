import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

extension KeyAdmin {
    /// What a reindex did.
    public struct ReindexReport: Sendable, Equatable {
        public var version = 0
        /// Stored keys moved to the new index, per table.
        public var translated: [String: Int] = [:]
        /// Stored keys no plaintext could be found for (their person erased, or a lead's earlier value no
        /// row keeps): deleted, as nothing could look them up any more.
        public var orphans: [String: Int] = [:]
    }

    static let indexedTables = [("lead_identities", "key"), ("lead_keys", "key"), ("customer_identities", "key")]

    /// Rebuilds every blind index under a new index key (`rapport keys reindex`): from plaintext keys
    /// (version 0) to blind ones, or from one index key to a new one (the old one suspected). Each
    /// stored key is translated, old value to new: the plaintext behind blind ones is made again from
    /// the ledger (opened), the leads and the customers. Merge records' key lists are translated too, so
    /// unmerges still move the right keys. One transaction holding the indexed tables: ingest waits for
    /// it, and every worker's next commit finds the new version and plans again.
    public func reindex(actor: String, progress: (String) -> Void = { _ in }) throws -> ReindexReport {
        var report = ReindexReport()
        try self.db.transaction {
            try self.db.query("select pg_advisory_xact_lock(\(Keyring.lock))")
            try self.db.query("select 1 from index_keys where current for update")
            self.keyring.forgetIndex()
            let old = try self.keyring.blindIndex(db: self.db)
            let oldKeyID: UUID? = try self.db.query("select key_id from index_keys where current").first?.decodeIfPresent("key_id")
            try self.db.query("lock table lead_identities, lead_keys, customer_identities, lead_merges, customer_merges in exclusive mode")

            let id = UUID()
            let key = try self.keyring.dataKeys([id], create: true, db: self.db)[id]!
            let version = old.version + 1
            let new = BlindIndex(key: key, digest: self.keyring.suite.digest, version: version)
            report.version = version

            try self.db.query("create temporary table reindex_map (old text primary key, new text not null unique) on commit drop")
            var pending: [(String, String)] = []
            func flush() throws {
                guard !pending.isEmpty else { return }
                try self.db.query("insert into reindex_map select * from unnest($1::text[], $2::text[]) on conflict do nothing",
                                  [pending.map(\.0), pending.map(\.1)])
                pending.removeAll(keepingCapacity: true)
            }
            func add(_ plain: String) throws {
                pending.append((old(plain), new(plain)))
                if pending.count >= 10_000 { try flush() }
            }
            if old.isPlain {
                // The stored keys are the plaintext.
                for (table, column) in Self.indexedTables {
                    for row in try self.db.query("select distinct \(column) as k from \(table)") { try add(try row.decode("k")) }
                }
                for row in try self.db.query(
                    """
                    select distinct k from lead_merges, unnest(loser_identities || loser_keys || winner_keys) as k
                    union select jsonb_array_elements_text(moved->'identities') from customer_merges where moved ? 'identities'
                    """) { try add(try row.decode("k")) }
            } else {
                try self.plaintextKeys(progress: progress) { try add($0) }
            }
            try flush()
            progress("translating the stored keys")

            for (table, column) in Self.indexedTables {
                report.translated[table] = try self.db.query(
                    "update \(table) t set \(column) = m.new from reindex_map m where t.\(column) = m.old returning 1").count
                report.orphans[table] = try self.db.query(
                    "delete from \(table) t where not exists (select 1 from reindex_map m where m.new = t.\(column)) returning 1").count
            }
            func translated(_ array: String) -> String {
                "array(select coalesce(m.new, k) from unnest(\(array)) as k left join reindex_map m on m.old = k)"
            }
            try self.db.query(
                """
                update lead_merges set loser_identities = \(translated("loser_identities")), loser_keys = \(translated("loser_keys")),
                                       winner_keys = \(translated("winner_keys"))
                """)
            try self.db.query(
                """
                update customer_merges set moved = jsonb_set(moved, '{identities}', (
                    select coalesce(jsonb_agg(coalesce(m.new, k)), '[]') from jsonb_array_elements_text(moved->'identities') as k
                    left join reindex_map m on m.old = k))
                where moved ? 'identities'
                """)

            try self.db.query("update index_keys set current = false where current")
            try self.db.query("insert into index_keys (version, key_id, digest) values ($1, $2::uuid, $3)",
                              [version, id.uuidString.lowercased(), new.digest.rawValue])
            // The old index key opens nothing; without it the old values say nothing even to a KEK holder.
            if let oldKeyID { try self.db.query("delete from data_keys where id = $1::uuid", [oldKeyID.uuidString.lowercased()]) }
            let moved = report.translated.values.reduce(0, +), lost = report.orphans.values.reduce(0, +)
            try AuditLog(db: self.db).append(actor: actor, action: "keys.reindex", targets: ["index:v\(version)"],
                                             detail: "\(moved) keys translated, \(lost) orphans removed")
        }
        self.keyring.forgetIndex()
        return report
    }

    /// Every identity and blocking key the stored people can have, in plaintext: from each ledger row
    /// (opened; an erased person's rows do not open and give none), each lead and each customer.
    private func plaintextKeys(progress: (String) -> Void, _ add: (String) throws -> Void) throws {
        func keys(_ r: PersonRecord) throws {
            if let p = r.phone { try add(IdentityKey.phone(p)) }
            if let e = r.email { try add(IdentityKey.email(e)) }
            for k in MatchProfile(r).blockingKeys { try add(k) }
        }
        var after = ("", ""), rows = 0
        while true {
            let page = try self.db.query(
                """
                select \(LedgerSeal.personColumns)
                from inbound_ledger where lead_id is not null and (source, message_id) > ($1, $2)
                order by source, message_id limit 5000
                """, [after.0, after.1])
            guard let last = page.last else { break }
            after = (try last.decode("source"), try last.decode("message_id"))
            let opened = try LedgerSeal.open(page, keyring: self.keyring, db: self.db)
            for (i, row) in page.enumerated() {
                if opened[i] == nil, row["sealed"] != nil { continue }  // erased
                try keys(LedgerSeal.person(row, opened: opened[i], id: ""))
            }
            rows += page.count
            progress("ledger rows read: \(rows)")
        }
        for row in try self.db.query(
            """
            select name, phone, email, company, address, fields->>'birth_date' as birth_date, fields->>'national_id' as national_id
            from leads where status <> 'erased'
            """) {
            try keys(PersonRecord(id: "", name: row["name"], phone: row["phone"], email: row["email"], company: row["company"],
                                  address: row["address"], birthDate: row["birth_date"], nationalID: row["national_id"]))
        }
        progress("leads read")
        let customers = Customers(db: self.db)
        for row in try self.db.query("select id from customers") {
            for k in try customers.get(try row.decode("id"))?.record.identityKeys ?? [] { try add(k) }
        }
        progress("customers read")
    }
}
