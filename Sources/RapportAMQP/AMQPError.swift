/// An error from the broker connection.
///
/// `description` is deliberately generic (no hosts, users or payloads); `String(reflecting:)` gives detail.
public struct AMQPError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, as an extensible set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connect, login, connectionLost, connectionClosed, channelClosed
            case timeout, nacked, unroutable, consumerCancelled, invalidURL, tls, protocolError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// TCP/TLS connect failed.
        public static let connect = Code(.connect)
        /// The broker refused the credentials or the vhost.
        public static let login = Code(.login)
        /// A socket error, heartbeat timeout or protocol error: the connection is unusable.
        public static let connectionLost = Code(.connectionLost)
        /// The broker closed the connection (connection.close).
        public static let connectionClosed = Code(.connectionClosed)
        /// The broker closed the channel (channel.close), e.g. a declare with other arguments.
        public static let channelClosed = Code(.channelClosed)
        /// Waiting for a reply or confirm took too long.
        public static let timeout = Code(.timeout)
        /// The broker nacked a published message.
        public static let nacked = Code(.nacked)
        /// A mandatory message could not be routed to any queue.
        public static let unroutable = Code(.unroutable)
        /// The broker cancelled the consumer (queue deleted or failed over).
        public static let consumerCancelled = Code(.consumerCancelled)
        /// The AMQP URL could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// TLS failed: set-up (certificates, keys), the handshake, or verifying the peer or its host name.
        /// `replyText` is rabbitmq-c's status text.
        public static let tls = Code(.tls)
        /// The broker sent something this client did not expect.
        public static let protocolError = Code(.protocolError)

        public var description: String { self.base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The AMQP reply code, when the broker sent one.
    public var replyCode: Int?
    /// The broker's reply text or the library's error string.
    public var replyText: String?
    public var file: String
    public var line: Int

    public init(_ code: Code, replyCode: Int? = nil, replyText: String? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.replyCode = replyCode
        self.replyText = replyText
        self.file = file
        self.line = line
    }

    /// True when the connection can no longer be used and must be reopened.
    public var isConnectionFatal: Bool {
        switch self.code {
        case .connectionLost, .connectionClosed, .connect, .login, .tls, .channelClosed, .consumerCancelled, .timeout:
            return true
        default:
            return false
        }
    }

    public var description: String { "AMQPError(\(self.code))" }

    public var debugDescription: String {
        var s = "AMQPError(\(self.code)"
        if let replyCode { s += ", reply \(replyCode)" }
        if let replyText { s += ", \(replyText)" }
        return s + ", at \(self.file):\(self.line))"
    }
}
