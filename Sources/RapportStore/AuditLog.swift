import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The audit chain in PostgreSQL (migration 0016). ``append(actor:action:targets:detail:now:)`` runs
/// inside the caller's transaction, so an entry exists exactly when its change does; a transaction-scoped
/// advisory lock orders appends, so each row names the hash of the one before it.
public struct AuditLog: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    /// The lock key that serialises appends (`hashtext('rapport.audit_log')` would do too; a constant is clearer).
    static let lockKey: Int64 = 0x5241_5544_4954  // "RAUDIT"

    /// Appends an entry; call it in the transaction of the change it records (it opens one if none is open).
    @discardableResult
    public func append(actor: String, action: String, targets: [String] = [], detail: String = "", now: Date = Date()) throws -> AuditChain.Entry {
        try self.db.transaction {
            try self.db.query("select pg_advisory_xact_lock($1)", [Self.lockKey])
            let last = try self.db.query("select seq, hash from audit_log order by seq desc limit 1").first
            let previous: (seq: Int64, hash: String)? = try last.map { (try $0.decode("seq"), try $0.decode("hash")) }
            let e = AuditChain.next(after: previous, at: now, actor: actor, action: action, targets: targets, detail: detail)
            try self.db.query(
                """
                insert into audit_log (seq, at, actor, action, targets, detail, prev_hash, hash)
                values ($1, $2, $3, $4, $5::text[], $6, $7, $8)
                """, [e.seq, e.at, e.actor, e.action, e.targets, e.detail, e.prevHash, e.hash])
            return e
        }
    }

    /// The first break in the chain, reading it in pages; `nil` when it holds. `checked` counts the rows that hold.
    public func verify(progress: (Int64) -> Void = { _ in }) throws -> (break: AuditChain.Break?, checked: Int64, lastSeq: Int64?, lastHash: String?) {
        var previous: (seq: Int64, hash: String)?
        var checked: Int64 = 0
        while true {
            let page = try self.entries(where: "seq > $1 order by seq limit 5000", [previous?.seq ?? 0])
            if page.isEmpty { break }
            if let b = AuditChain.check(page, after: previous) {
                // The rows before the break hold; report the last of them.
                let good = page.prefix { $0.seq < b.seq }
                return (b, checked + Int64(good.count), good.last?.seq ?? previous?.seq, good.last?.hash ?? previous?.hash)
            }
            checked += Int64(page.count)
            previous = (page.last!.seq, page.last!.hash)
            progress(checked)
        }
        return (nil, checked, previous?.seq, previous?.hash)
    }

    /// The chain's head, or `nil` when empty.
    public func head() throws -> (seq: Int64, hash: String)? {
        try self.db.query("select seq, hash from audit_log order by seq desc limit 1").first.map { (try $0.decode("seq"), try $0.decode("hash")) }
    }

    /// Signs the head, unless `since` already covers it; enqueues `audit.checkpoint` on `rapport.events`
    /// and returns the checkpoint for the caller to append to its file.
    public func checkpoint(key: Signer, since last: Int64? = nil, now: Date = Date()) throws -> AuditChain.Checkpoint? {
        guard let head = try self.head(), head.seq != last else { return nil }
        let c = AuditChain.Checkpoint.sign(seq: head.seq, hash: head.hash, now: now, key: key)
        let row = JSONValue.array([.object(["message_id": .string("audit.checkpoint:\(c.seq)"), "routing_key": "audit.checkpoint",
                                            "payload": .object(["event": "audit.checkpoint", "seq": .string(String(c.seq)), "hash": .string(c.hash),
                                                                "at": .string(c.at), "signature": .string(c.signature)])])])
        try Outbox.enqueue(rows: row.jsonString, on: self.db)
        return c
    }

    /// Checks signed checkpoints against the chain: each must be signed by `key` and name a row the chain
    /// still holds with the same hash. A chain that ends before a checkpoint was cut back (its tail deleted).
    public func verify(checkpoints: [AuditChain.Checkpoint], key: Verifier) throws -> AuditChain.Break? {
        for c in checkpoints.sorted(by: { $0.seq < $1.seq }) {
            guard c.isValid(under: key) else { return AuditChain.Break(seq: c.seq, reason: "the checkpoint's signature does not verify") }
            guard let row = try self.db.query("select hash from audit_log where seq = $1", [c.seq]).first else {
                let end = try self.head()?.seq ?? 0
                return AuditChain.Break(seq: end + 1, reason: "the chain ends at \(end) but a checkpoint signed row \(c.seq): its tail was cut off")
            }
            guard try row.decode("hash", as: String.self) == c.hash else {
                return AuditChain.Break(seq: c.seq, reason: "the row's hash differs from the checkpoint's")
            }
        }
        return nil
    }

    /// Every entry naming `target`, oldest first.
    public func history(target: String) throws -> [AuditChain.Entry] {
        try self.entries(where: "$1 = any(targets) order by seq", [target])
    }

    private func entries(where condition: String, _ params: [(any PGEncodable)?]) throws -> [AuditChain.Entry] {
        try self.db.query("select seq, at, actor, action, targets, detail, prev_hash, hash from audit_log where \(condition)", params).map {
            AuditChain.Entry(seq: try $0.decode("seq"), at: try $0.decode("at"), actor: try $0.decode("actor"), action: try $0.decode("action"),
                             targets: try $0.decode("targets"), detail: try $0.decode("detail"), prevHash: try $0.decode("prev_hash"),
                             hash: try $0.decode("hash"))
        }
    }
}
