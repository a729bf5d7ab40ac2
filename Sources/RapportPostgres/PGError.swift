/// An error thrown by ``PGConnection``, ``PGRow`` decoding or ``Migrator``.
///
/// Match on ``code`` to tell the kinds apart, and use ``isTransient`` to decide whether
/// a retry may succeed:
///
/// ```swift
/// do {
///     try connection.query("insert into jobs (id) values ($1)", [id])
/// } catch let error as PGError where error.sqlState == "23505" {
///     // duplicate key
/// }
/// ```
///
/// - Important: ``description`` is deliberately generic (code and SQLSTATE only) so that logs
///   never contain data values, host names or user names. Use `String(reflecting: error)`
///   (``debugDescription``) to see the server message and detail.
public struct PGError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure.
    ///
    /// This is an extensible set of values rather than an enum, so new kinds can be added
    /// without breaking code that switches over it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connection
            case query
            case decode
            case migration
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Connecting, resetting or talking to the server failed, or the connection is closed.
        public static let connection = Code(.connection)
        /// The server rejected a statement (see ``PGError/sqlState``).
        public static let query = Code(.query)
        /// A value returned by the server could not be converted to the requested Swift type.
        public static let decode = Code(.decode)
        /// Loading, validating, applying or rolling back a ``Migration`` failed.
        public static let migration = Code(.migration)

        /// The name of the code, for example `query`.
        public var description: String {
            switch self.base {
            case .connection: "connection"
            case .query: "query"
            case .decode: "decode"
            case .migration: "migration"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The five-character SQLSTATE reported by the server (`PG_DIAG_SQLSTATE`), for example `23505`.
    ///
    /// `nil` when the error did not come from the server.
    public var sqlState: String?
    /// The primary, human-readable error message.
    ///
    /// - Important: This may contain data values; it is only shown by ``debugDescription``.
    public var message: String
    /// The server's optional secondary message (`PG_DIAG_MESSAGE_DETAIL`), or extra context.
    public var detail: String?
    /// The file (`#fileID`) where the error was created.
    public var file: String
    /// The line where the error was created.
    public var line: Int

    /// Whether the connection was found dead (`PQstatus` bad) after the failure.
    internal var connectionLost: Bool = false

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: The primary message.
    ///   - sqlState: The SQLSTATE, if the error came from the server.
    ///   - detail: Optional secondary message.
    ///   - file: Defaults to the caller's `#fileID`.
    ///   - line: Defaults to the caller's `#line`.
    public init(
        _ code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.file = file
        self.line = line
    }

    /// Whether retrying the operation later may succeed.
    ///
    /// `true` for connection failures (code ``Code/connection`` or SQLSTATE class `08`),
    /// serialization failures (`40001`), deadlocks (`40P01`), server shutdown or restart
    /// (`57P01`, `57P02`, `57P03`), insufficient resources (class `53`), and any failure after
    /// which the connection was found dead. Retrying on a dead connection needs
    /// ``PGConnection/reset()`` or a new connection first.
    public var isTransient: Bool {
        if self.code == .connection || self.connectionLost {
            return true
        }
        guard let state = self.sqlState else {
            return false
        }
        switch state {
        case "40001", "40P01", "57P01", "57P02", "57P03":
            return true
        default:
            return state.hasPrefix("08") || state.hasPrefix("53")
        }
    }

    /// A generic description without data values, for example `PGError(query, sqlstate: 23505)`.
    public var description: String {
        if let state = self.sqlState {
            return "PGError(\(self.code), sqlstate: \(state))"
        }
        return "PGError(\(self.code))"
    }

    /// A full description including the message, detail and source location.
    public var debugDescription: String {
        var text = "PGError(code: \(self.code)"
        if let state = self.sqlState {
            text += ", sqlState: \(state)"
        }
        text += ", message: \(String(reflecting: self.message))"
        if let detail = self.detail {
            text += ", detail: \(String(reflecting: detail))"
        }
        if self.connectionLost {
            text += ", connectionLost: true"
        }
        text += ", isTransient: \(self.isTransient), file: \(self.file), line: \(self.line))"
        return text
    }
}
