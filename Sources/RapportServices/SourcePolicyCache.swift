import Foundation
import RapportCore
import RapportDecoding
import RapportPostgres
import RapportStore
import Synchronization

/// The source registry as ingest sees it, read again at most every `refresh` (5 s by default), so a batch
/// costs no extra round trip and a revocation takes effect within one refresh. Shared by the consumers
/// of a process.
public final class SourcePolicyCache: Sendable {
    private let state = Mutex<(policy: SourcePolicy, loadedAt: ContinuousClock.Instant?)>((SourcePolicy(), nil))
    public let verifier: SignatureVerifier
    public let refresh: Duration

    public init(verifier: SignatureVerifier = SignatureVerifier(), refresh: Duration = .seconds(5)) {
        self.verifier = verifier
        self.refresh = refresh
    }

    /// The policy, read through `db` when the copy held is older than ``refresh``.
    public func policy(_ db: PGConnection) throws -> SourcePolicy {
        let now = ContinuousClock.now
        let held = self.state.withLock { s in s.loadedAt.map { now - $0 < self.refresh } == true ? s.policy : nil }
        if let held { return held }
        let snapshot = try SourceRegistry(db: db).snapshot()
        let policy = SourcePolicy(sources: snapshot.sources, keys: snapshot.keys, verifier: self.verifier)
        self.state.withLock { $0 = (policy, now) }
        return policy
    }

    /// Forgets the copy held (tests, and `rapport source` run in the same process).
    public func invalidate() {
        self.state.withLock { $0.loadedAt = nil }
    }
}
