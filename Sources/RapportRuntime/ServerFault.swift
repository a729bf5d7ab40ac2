import Foundation
import RapportSupport
import Logging
import RapportAMQP
import RapportPostgres

/// Which server an error came from, and the server's (or libpq's, or rabbitmq-c's) own words, for logs.
public struct ServerFault: Sendable, CustomStringConvertible {
    /// `broker`, `database`, or `worker` when neither server is to blame.
    public var server: String
    /// Where that server is, without a password.
    public var address: String
    /// The message as the server or client library gave it.
    public var message: String

    public init(_ error: any Error, connections: ServerConnections?) {
        switch error {
        case let e as PGError:
            self.server = "database"
            self.address = connections?.databaseAddress ?? "-"
            self.message = e.message.isEmpty ? "\(e)" : "\(e.code): \(e.message.trimmingCharacters(in: .whitespacesAndNewlines))"
        case let e as AMQPError:
            self.server = "broker"
            self.address = connections?.brokerAddress ?? "-"
            self.message = e.replyText ?? "\(e.code)"
        default:
            self.server = "worker"
            self.address = "-"
            self.message = String(reflecting: error)
        }
    }

    public var description: String { "\(self.server) \(self.address): \(self.message)" }

    /// Log metadata: `server`, `url`, `error`.
    public var metadata: Logger.Metadata {
        ["server": "\(self.server)", "url": "\(self.address)", "error": "\(self.message)"]
    }

    /// Whether waiting may fix it: the server is unreachable, restarting, or refusing for now.
    public static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let e as PGError: e.isTransient
        case let e as AMQPError: e.isConnectionFatal || e.code == .nacked
        default: false
        }
    }
}
