import Foundation
import RapportSupport
import Logging

/// The one reconnect loop: runs a session until the stop signal is set, and when a session throws,
/// logs which server failed (its URL without a password, and its own message) and starts a new session
/// after an exponential backoff. Every worker loop and the start-up steps run under one.
public struct Supervisor: Sendable {
    /// What the logs call this loop.
    public var name: String
    public var logger: Logger
    /// The servers the session uses, to name them in logs.
    public var connections: ServerConnections?
    /// Longest wait between sessions. Defaults to `5` seconds.
    public var maxBackoff: Duration

    public init(name: String, logger: Logger, connections: ServerConnections?, maxBackoff: Duration = .seconds(5)) {
        self.name = name
        self.logger = logger
        self.connections = connections
        self.maxBackoff = maxBackoff
    }

    /// Runs `session` again and again until `stop` is set, waiting out every error. A session that is
    /// connected and working calls `backoff.reset()`; one that returns normally is simply started again.
    public func run(stop: StopSignal, session: (_ backoff: inout Backoff) throws -> Void) {
        // Every error is retried, so nothing escapes.
        try? self.run(stop: stop, retryIf: { _ in true }, session: session)
    }

    /// Like ``run(stop:session:)``, but errors for which `retryIf` is false are rethrown (configuration
    /// errors at start-up).
    public func run(stop: StopSignal, retryIf: (any Error) -> Bool,
                    session: (_ backoff: inout Backoff) throws -> Void) throws {
        var backoff = Backoff(maximum: self.maxBackoff)
        while !stop.isSet {
            do {
                try session(&backoff)
            } catch {
                if stop.isSet { break }
                guard retryIf(error) else { throw error }
                let wait = backoff.next()
                var metadata = ServerFault(error, connections: self.connections).metadata
                metadata["backoff"] = "\(wait)"
                self.logger.warning("\(self.name): server fault; retrying", metadata: metadata)
                stop.sleep(for: wait)
            }
        }
    }
}
