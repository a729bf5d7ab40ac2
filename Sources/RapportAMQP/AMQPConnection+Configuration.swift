import Foundation

extension AMQPConnection {
    /// How to reach and log in to the broker.
    public struct Configuration: Sendable {
        /// Broker host. Defaults to `127.0.0.1`.
        public var host: String = "127.0.0.1"
        /// Broker port. Defaults to `5672` (`5671` with TLS from a URL).
        public var port: Int = 5672
        /// Virtual host. Defaults to `/`.
        public var vhost: String = "/"
        /// User for `.plain` login (ignored with `.external`). Defaults to `guest`.
        public var username: String = "guest"
        /// Password for `.plain` login (ignored with `.external`). Defaults to `guest`.
        public var password: String = "guest"
        /// How to log in. Defaults to ``AuthMechanism/plain``.
        public var authMechanism: AuthMechanism = .plain
        /// Heartbeat negotiated with the broker, in seconds. Defaults to `30`.
        public var heartbeatSeconds: Int = 30
        /// Name shown in the management UI. Defaults to `rapport`.
        public var connectionName: String = "rapport"
        /// How long to wait for TCP connect and for RPC replies. Defaults to `10` seconds.
        public var timeoutSeconds: Int = 10
        /// TLS settings, or `nil` for plain TCP. Defaults to `nil`.
        public var tls: TLS?

        public init(host: String = "127.0.0.1", port: Int = 5672, vhost: String = "/",
                    username: String = "guest", password: String = "guest") {
            self.host = host
            self.port = port
            self.vhost = vhost
            self.username = username
            self.password = password
        }

        /// The SASL mechanism of the login.
        public enum AuthMechanism: String, Sendable {
            /// User name and password.
            case plain
            /// The client certificate of mutual TLS: the broker logs in the user its CN names
            /// (RabbitMQ's `rabbitmq_auth_mechanism_ssl`). Needs ``TLS`` with a certificate and key.
            case external
        }

        /// TLS to the broker with certificate verification (TLS 1.2 or later).
        public struct TLS: Sendable {
            /// PEM file of the CA that signed the broker's certificate.
            public var caCertificatePath: String
            /// Client certificate and key (PEM) for mutual TLS, if the broker asks.
            public var certificatePath: String?
            public var keyPath: String?
            /// Verify the broker's certificate chain. Defaults to `true`.
            public var verifyPeer: Bool = true
            /// Verify that the certificate names the host. Defaults to `true`.
            public var verifyHostname: Bool = true

            public init(caCertificatePath: String, certificatePath: String? = nil, keyPath: String? = nil) {
                self.caCertificatePath = caCertificatePath
                self.certificatePath = certificatePath
                self.keyPath = keyPath
            }
        }

        /// Parses `amqp://user:pass@host:port/vhost?heartbeat=30&connection_name=x` (or `amqps://`).
        ///
        /// The vhost is the percent-decoded path without its leading slash (`/%2F` is `/`); an empty path is `/`.
        /// For `amqps`, `cacertfile`, `certfile`, `keyfile` and `verify=verify_none` query items set TLS.
        /// `auth_mechanism=external` logs in with the client certificate (`amqps` with `certfile` and
        /// `keyfile` only); user and password in the URL are then ignored.
        public init(url: String) throws {
            guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(),
                  scheme == "amqp" || scheme == "amqps" else {
                throw AMQPError(.invalidURL, replyText: "expected amqp:// or amqps://")
            }
            self.init()
            if let h = c.host, !h.isEmpty { self.host = h }
            self.port = c.port ?? (scheme == "amqps" ? 5671 : 5672)
            if let u = c.user { self.username = u }
            if let p = c.password { self.password = p }
            let path = c.percentEncodedPath
            if path.isEmpty || path == "/" {
                self.vhost = "/"
            } else {
                self.vhost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
            }
            var ca: String?, cert: String?, key: String?, verify = true
            for item in c.queryItems ?? [] {
                switch item.name {
                case "heartbeat": self.heartbeatSeconds = Int(item.value ?? "") ?? self.heartbeatSeconds
                case "connection_name": self.connectionName = item.value ?? self.connectionName
                case "connection_timeout": self.timeoutSeconds = (Int(item.value ?? "") ?? 10_000) / 1000
                case "cacertfile": ca = item.value
                case "certfile": cert = item.value
                case "keyfile": key = item.value
                case "verify": verify = item.value != "verify_none"
                case "auth_mechanism":
                    guard let m = AuthMechanism(rawValue: (item.value ?? "").lowercased()) else {
                        throw AMQPError(.invalidURL, replyText: "auth_mechanism is plain or external")
                    }
                    self.authMechanism = m
                default: break
                }
            }
            if scheme == "amqps" {
                guard let ca else { throw AMQPError(.invalidURL, replyText: "amqps needs cacertfile=PATH") }
                var tls = TLS(caCertificatePath: ca, certificatePath: cert, keyPath: key)
                tls.verifyPeer = verify
                tls.verifyHostname = verify
                self.tls = tls
            }
            if self.authMechanism == .external {
                guard scheme == "amqps", cert != nil, key != nil else {
                    throw AMQPError(.invalidURL, replyText: "auth_mechanism=external needs amqps with certfile and keyfile")
                }
                // The certificate says who we are; no password is ever sent.
                self.username = c.user ?? ""
                self.password = ""
            }
        }
    }
}
