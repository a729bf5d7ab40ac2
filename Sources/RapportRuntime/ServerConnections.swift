import Foundation
import RapportSupport
import RapportAMQP
import RapportPostgres

/// How a worker reaches the broker and the database, and how it names them in logs: never with a password.
public struct ServerConnections: Sendable {
    /// The broker; each connection gets its own name for the management UI.
    public var amqp: AMQPConnection.Configuration
    /// libpq connection string or URL.
    public var postgresURL: String

    public init(amqp: AMQPConnection.Configuration, postgresURL: String) {
        self.amqp = amqp
        self.postgresURL = postgresURL
    }

    /// A new broker connection named `name`.
    public func broker(name: String) throws -> AMQPConnection {
        var c = self.amqp
        c.connectionName = name
        return try AMQPConnection(configuration: c)
    }

    /// A new database connection.
    public func database() throws -> PGConnection { try PGConnection(self.postgresURL) }

    /// `amqp[s]://user@host:port/vhost`, for logs; with a certificate login
    /// `amqps://host:port/vhost?auth_mechanism=external`.
    public var brokerAddress: String {
        let vhost = self.amqp.vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? self.amqp.vhost
        let scheme = self.amqp.tls == nil ? "amqp" : "amqps"
        if self.amqp.authMechanism == .external {
            return "\(scheme)://\(self.amqp.host):\(self.amqp.port)/\(vhost)?auth_mechanism=external"
        }
        return "\(scheme)://\(self.amqp.username)@\(self.amqp.host):\(self.amqp.port)/\(vhost)"
    }

    /// The database URL without its password, for logs.
    public var databaseAddress: String { Redact.url(self.postgresURL) }
}
