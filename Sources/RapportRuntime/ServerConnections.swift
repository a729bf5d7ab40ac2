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

    /// `amqp[s]://user@host:port/vhost`, for logs.
    public var brokerAddress: String {
        let vhost = self.amqp.vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? self.amqp.vhost
        return "\(self.amqp.tls == nil ? "amqp" : "amqps")://\(self.amqp.username)@\(self.amqp.host):\(self.amqp.port)/\(vhost)"
    }

    /// The database URL without its password, for logs.
    public var databaseAddress: String { Redact.url(self.postgresURL) }
}

/// Strips secrets from what goes into logs.
public enum Redact {
    /// A URL (`scheme://user:secret@host/…`) or libpq key/value string (`password=secret`) without the secret.
    public static func url(_ text: String) -> String {
        if var c = URLComponents(string: text), c.scheme != nil, c.host != nil {
            if c.password != nil { c.password = "***" }
            c.queryItems = c.queryItems?.map { ["password", "sslpassword"].contains($0.name) ? URLQueryItem(name: $0.name, value: "***") : $0 }
            return c.string ?? "(unprintable URL)"
        }
        return text.split(separator: " ").map { part in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 && ["password", "sslpassword"].contains(kv[0].lowercased()) ? "\(kv[0])=***" : String(part)
        }.joined(separator: " ")
    }
}
