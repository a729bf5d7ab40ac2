import Foundation
import RapportCore
import RapportPostgres
import RapportRuntime
import RapportStore
import RapportSupport
import Synchronization

/// Signs the audit chain's head every `interval` when it moved: the checkpoint is appended to a file
/// outside the database and published as `audit.checkpoint` (through the outbox) for ops to keep off-host.
public final class AuditCheckpointer: PeriodicJob {
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: true, publisher: false) }
    let key: Signer
    let file: String
    let interval: Duration
    private let last = Mutex<Int64?>(nil)

    public init(key: Signer, file: String, interval: Duration) {
        self.key = key
        self.file = file
        self.interval = interval
    }

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        let db = try context.db
        let since = self.last.withLock { $0 }
        if let c = try db.transaction({ try AuditLog(db: db).checkpoint(key: self.key, since: since) }) {
            try Self.append(c, to: self.file)
            self.last.withLock { $0 = c.seq }
        }
        return self.interval
    }

    /// Appends one checkpoint line (the file is created 0600).
    public static func append(_ c: AuditChain.Checkpoint, to path: String) throws {
        let line = Data((c.jsonLine + "\n").utf8)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CryptoError("cannot create \(path)")
            }
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line)
    }

    /// The checkpoints in a file, skipping none silently: a line that does not parse is an error.
    public static func read(_ path: String) throws -> [AuditChain.Checkpoint] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CryptoError("cannot read \(path)") }
        var out: [AuditChain.Checkpoint] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() where !line.isEmpty {
            guard let c = AuditChain.Checkpoint(jsonLine: String(line)) else { throw CryptoError("\(path) line \(n + 1): not a checkpoint") }
            out.append(c)
        }
        return out
    }
}
