import Foundation
import RapportSupport

/// The audit chain's arithmetic, without IO: a row's canonical bytes and its hash, and the check of a
/// run of rows (issue 13). `hash = SHA-256(previous hash ‖ "\n" ‖ canonical row)`; the first row's
/// previous hash is ``genesis``.
public enum AuditChain {
    public static let version = "rapport-audit-v1"
    public static let genesis = String(repeating: "0", count: 64)

    /// One entry: who did what to which records. Ids and codes only, never personal data.
    public struct Entry: Sendable, Hashable {
        public var seq: Int64
        /// ISO 8601 UTC with milliseconds, exactly as hashed.
        public var at: String
        public var actor: String
        public var action: String
        public var targets: [String]
        public var detail: String
        public var prevHash: String
        public var hash: String

        public init(seq: Int64, at: String, actor: String, action: String, targets: [String], detail: String, prevHash: String, hash: String) {
            self.seq = seq
            self.at = at
            self.actor = actor
            self.action = action
            self.targets = targets
            self.detail = detail
            self.prevHash = prevHash
            self.hash = hash
        }

        /// A JSON array of strings: escaping makes every field's bounds unambiguous.
        public var canonical: String {
            JSONValue.array([.string(AuditChain.version), .string(String(self.seq)), .string(self.at), .string(self.actor),
                             .string(self.action), .array(self.targets.map { .string($0) }), .string(self.detail)]).jsonString
        }

        /// The hash this entry must carry after `prevHash`.
        public var expectedHash: String { SHA256.hex(self.prevHash + "\n" + self.canonical) }
    }

    /// The entry that follows `previous` (or starts the chain), with its hash.
    public static func next(after previous: (seq: Int64, hash: String)?, at: Date, actor: String, action: String,
                            targets: [String], detail: String) -> Entry {
        var e = Entry(seq: (previous?.seq ?? 0) + 1, at: ISO8601.string(at), actor: actor, action: action, targets: targets,
                      detail: detail, prevHash: previous?.hash ?? Self.genesis, hash: "")
        e.hash = e.expectedHash
        return e
    }

    /// Why a chain does not hold, at the first bad sequence number.
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        public var seq: Int64
        public var reason: String
        public init(seq: Int64, reason: String) {
            self.seq = seq
            self.reason = reason
        }
        public var description: String { "sequence \(self.seq): \(self.reason)" }
    }

    /// Checks rows in sequence order, continuing from `previous` (the last good row before them, or
    /// none for the chain's start).
    public static func check<S: Sequence>(_ rows: S, after previous: (seq: Int64, hash: String)? = nil) -> Break? where S.Element == Entry {
        var last = previous ?? (0, Self.genesis)
        for e in rows {
            if e.seq != last.seq + 1 {
                return e.seq > last.seq + 1
                    ? Break(seq: last.seq + 1, reason: "missing: the rows from \(last.seq + 1) to \(e.seq - 1) were deleted")
                    : Break(seq: e.seq, reason: "out of order after \(last.seq)")
            }
            if e.prevHash != last.hash {
                return Break(seq: e.seq, reason: "its previous hash is not the hash of row \(last.seq): a row was inserted or replaced")
            }
            if e.hash != e.expectedHash {
                return Break(seq: e.seq, reason: "its content does not match its hash: the row was edited")
            }
            last = (e.seq, e.hash)
        }
        return nil
    }
}

extension AuditChain {
    /// A signed statement of the chain's head, kept outside the database (a file, and `audit.checkpoint` on
    /// `rapport.events` for ops to keep off-host): a chain cut back past it is caught.
    public struct Checkpoint: Sendable, Hashable {
        public static let version = "rapport-audit-checkpoint-v1"
        public var seq: Int64
        public var hash: String
        public var at: String
        /// `ed25519:<base64>` or `sm2:<base64 DER>` over ``canonical`` (see ``Signer``).
        public var signature: String

        public init(seq: Int64, hash: String, at: String, signature: String) {
            self.seq = seq
            self.hash = hash
            self.at = at
            self.signature = signature
        }

        public var canonical: [UInt8] { Array([Self.version, String(self.seq), self.hash, self.at].joined(separator: "\n").utf8) }

        /// Signs the head `(seq, hash)` at `now`.
        public static func sign(seq: Int64, hash: String, now: Date, key: Signer) -> Checkpoint {
            var c = Checkpoint(seq: seq, hash: hash, at: ISO8601.string(now), signature: "")
            c.signature = key.sign(c.canonical)
            return c
        }

        public func isValid(under key: Verifier) -> Bool { key.isValid(self.signature, for: self.canonical) }

        /// One JSON line of a checkpoint file.
        public var jsonLine: String {
            JSONValue.object(["seq": .string(String(self.seq)), "hash": .string(self.hash), "at": .string(self.at),
                              "signature": .string(self.signature)]).jsonString
        }

        public init?(jsonLine: String) {
            guard let o = (try? JSONValue.parse(Array(jsonLine.utf8)))?.objectValue, let seq = o["seq"]?.stringValue.flatMap({ Int64($0) }),
                  let hash = o["hash"]?.stringValue, let at = o["at"]?.stringValue, let signature = o["signature"]?.stringValue else { return nil }
            self.init(seq: seq, hash: hash, at: at, signature: signature)
        }
    }
}
