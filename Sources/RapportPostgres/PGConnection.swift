internal import CLibPQ

/// A blocking connection to a PostgreSQL server, backed by libpq.
///
/// Every call blocks the calling thread until the server answers, so call it from a thread
/// you own (for example a `NIOThreadPool` thread), never directly from the Swift concurrency
/// cooperative pool.
///
/// Parameters are sent, and results received, in text format; see ``PGEncodable`` and
/// ``PGDecodable``. The connection assumes the server's `DateStyle` is `ISO` (the PostgreSQL
/// default) and sets it if the server reports otherwise; the client encoding is set to `UTF8`.
///
/// ```swift
/// let connection = try PGConnection("postgresql://rapport:secret@127.0.0.1:5432/rapport")
/// let result = try connection.query("select id, name from users where id = $1", [42])
/// for row in result {
///     let name: String = try row.decode("name")
/// }
/// ```
///
/// - Important: `PGConnection` is `@unchecked Sendable` under this invariant: **one thread at a
///   time.** It holds no locks. It may be created on one thread and used on another, and
///   handed between threads, but callers must make sure no two calls on the same instance
///   overlap (for example by confining it to one actor, lease or thread). libpq itself is
///   thread-safe (`PQisthreadsafe()` is 1) for distinct connections.
public final class PGConnection: @unchecked Sendable {
    /// The libpq `PGconn *`, or `nil` once closed.
    private var handle: OpaquePointer?
    /// Nesting depth of ``transaction(_:)`` calls; nested calls use savepoints.
    private var transactionDepth = 0

    /// Opens a connection.
    ///
    /// - Parameter conninfo: A libpq connection string: either a URL such as
    ///   `postgresql://user:password@host:5432/database?sslmode=disable`, or `key=value` pairs
    ///   such as `host=127.0.0.1 dbname=rapport user=rapport`. Unset values fall back to the
    ///   usual `PG*` environment variables.
    /// - Throws: ``PGError`` with code ``PGError/Code/connection`` if the server cannot be
    ///   reached or rejects the login.
    public init(_ conninfo: String) throws {
        guard let handle = PQconnectdb(conninfo) else {
            throw PGError(.connection, message: "out of memory allocating a connection")
        }
        // Installed before checking the status so no NOTICE ever reaches stderr; the hook
        // survives PQreset.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.errorMessage(handle) ?? "connection failed"
            PQfinish(handle)
            throw PGError(.connection, message: message)
        }
        self.handle = handle
        do {
            try self.configureSession()
        } catch {
            self.close()
            throw error
        }
    }

    deinit {
        if let handle = self.handle {
            PQfinish(handle)
        }
    }

    /// Whether the connection is open and healthy (`PQstatus` is `CONNECTION_OK`).
    ///
    /// This does not contact the server: a connection whose server went away is only found
    /// dead by the next failed call.
    public var isConnected: Bool {
        guard let handle = self.handle else {
            return false
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server version as an integer, for example `150018` for 15.18; `0` when closed.
    public var serverVersion: Int {
        guard let handle = self.handle else {
            return 0
        }
        return Int(PQserverVersion(handle))
    }

    /// Closes the connection and reconnects with the same parameters (`PQreset`).
    ///
    /// Any open transaction is lost.
    ///
    /// - Throws: ``PGError`` with code ``PGError/Code/connection`` if the connection is closed
    ///   or reconnecting fails.
    public func reset() throws {
        let handle = try self.requireHandle()
        self.transactionDepth = 0
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PGError(.connection, message: Self.errorMessage(handle) ?? "reset failed")
        }
        try self.configureSession()
    }

    /// Closes the connection (`PQfinish`).
    ///
    /// Calling it again does nothing. It is also called when the connection is deinitialised.
    /// Later calls that need the server throw ``PGError/Code/connection``.
    public func close() {
        if let handle = self.handle {
            self.handle = nil
            self.transactionDepth = 0
            PQfinish(handle)
        }
    }

    /// Runs one statement with parameters (`PQexecParams`, extended protocol).
    ///
    /// Parameters are referenced as `$1`, `$2`, … and sent in text format; add a cast such as
    /// `$1::timestamptz` when the server cannot infer the type.
    ///
    /// - Parameters:
    ///   - sql: A single SQL statement.
    ///   - params: The parameter values; `nil` is SQL `NULL`.
    /// - Returns: The rows (in text format) and the affected row count.
    /// - Throws: ``PGError`` with code ``PGError/Code/query`` and the server's SQLSTATE if the
    ///   statement fails, or ``PGError/Code/connection`` if the connection is closed.
    @discardableResult
    public func query(_ sql: String, _ params: [(any PGEncodable)?] = []) throws -> PGResult {
        let handle = try self.requireHandle()
        // Copy every parameter into a NUL-terminated buffer that lives until PQexecParams returns.
        let buffers: [UnsafeMutablePointer<CChar>?] = params.map { param in
            guard let param else {
                return nil
            }
            let utf8 = param.pgText.utf8CString
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
            utf8.withUnsafeBufferPointer { source in
                buffer.initialize(from: source.baseAddress!, count: source.count)
            }
            return buffer
        }
        defer {
            for buffer in buffers {
                buffer?.deallocate()
            }
        }
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer { values in
            PQexecParams(handle, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
        }
        return try self.consume(result, handle: handle)
    }

    /// Runs one or more statements without parameters (`PQexec`, simple protocol).
    ///
    /// Statements are separated by semicolons and, unless already inside a transaction, run
    /// in one implicit transaction. Use this for migrations, `BEGIN`/`COMMIT` and `SET`.
    ///
    /// - Parameter sql: The SQL text.
    /// - Throws: ``PGError`` with code ``PGError/Code/query`` and the server's SQLSTATE if a
    ///   statement fails, or ``PGError/Code/connection`` if the connection is closed.
    public func execute(_ sql: String) throws {
        let handle = try self.requireHandle()
        _ = try self.consume(PQexec(handle, sql), handle: handle)
    }

    /// Runs `body` inside a transaction.
    ///
    /// Sends `BEGIN`, runs `body`, then `COMMIT`. If `body` throws, sends `ROLLBACK` (ignoring
    /// any rollback failure, for example on a dead connection) and rethrows the original error.
    /// Calls nested inside `body` use savepoints, so an inner failure only undoes the inner work.
    ///
    /// - Parameter body: The work to run; use the same connection inside it.
    /// - Returns: What `body` returns.
    /// - Throws: The error thrown by `body`; a ``PGError`` if `BEGIN` or `COMMIT` fails; or a
    ///   ``PGError`` with code ``PGError/Code/query`` and SQLSTATE `25P02` if `body` returned
    ///   normally after a statement failed inside the transaction (it has been rolled back).
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let handle = try self.requireHandle()
        let depth = self.transactionDepth
        let savepoint = "rapport_savepoint_\(depth)"
        try self.execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        self.transactionDepth = depth + 1
        defer {
            self.transactionDepth = depth
        }
        let value: T
        do {
            value = try body()
        } catch {
            self.rollbackIgnoringErrors(depth: depth, savepoint: savepoint)
            throw error
        }
        if PQtransactionStatus(handle) == PQTRANS_INERROR {
            // COMMIT would silently turn into ROLLBACK; make the failure visible.
            self.rollbackIgnoringErrors(depth: depth, savepoint: savepoint)
            throw PGError(
                .query,
                message: "a statement failed inside the transaction, so it was rolled back",
                sqlState: "25P02"
            )
        }
        try self.execute(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)")
        return value
    }

    // MARK: - Internals

    private func rollbackIgnoringErrors(depth: Int, savepoint: String) {
        guard self.isConnected else {
            return
        }
        if depth == 0 {
            try? self.execute("ROLLBACK")
        } else {
            try? self.execute("ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
        }
    }

    private func requireHandle(file: String = #fileID, line: Int = #line) throws -> OpaquePointer {
        guard let handle = self.handle else {
            throw PGError(.connection, message: "the connection is closed", file: file, line: line)
        }
        return handle
    }

    /// Makes the session match what the text decoders expect.
    private func configureSession() throws {
        let handle = try self.requireHandle()
        if Self.parameterStatus(handle, "client_encoding")?.uppercased() != "UTF8" {
            guard PQsetClientEncoding(handle, "UTF8") == 0 else {
                throw PGError(.connection, message: Self.errorMessage(handle) ?? "cannot set client_encoding to UTF8")
            }
        }
        if Self.parameterStatus(handle, "DateStyle")?.hasPrefix("ISO") != true {
            try self.execute("SET DateStyle = ISO")
        }
    }

    /// Converts a `PGresult *` into a ``PGResult`` or throws, always clearing it.
    private func consume(_ result: OpaquePointer?, handle: OpaquePointer) throws -> PGResult {
        guard let result else {
            var error = PGError(.query, message: Self.errorMessage(handle) ?? "no result from server")
            if PQstatus(handle) != CONNECTION_OK {
                error.code = .connection
                error.connectionLost = true
            }
            throw error
        }
        defer {
            PQclear(result)
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return PGResult(copying: result)
        default:
            throw Self.error(from: result, handle: handle)
        }
    }

    private static func error(from result: OpaquePointer, handle: OpaquePointer) -> PGError {
        let sqlState = Self.field(result, "C")
        let message =
            Self.field(result, "M")
            ?? (PQresultErrorMessage(result).map { String(cString: $0) }).flatMap(Self.nonEmptyTrimmed)
            ?? Self.errorMessage(handle)
            ?? "query failed"
        var error = PGError(.query, message: message, sqlState: sqlState, detail: Self.field(result, "D"))
        if PQstatus(handle) != CONNECTION_OK {
            error.connectionLost = true
        }
        return error
    }

    /// Reads one `PG_DIAG_*` field; `code` is the field's letter (the C macros are char literals).
    private static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(result, Int32(code.value)) else {
            return nil
        }
        return String(cString: value)
    }

    private static func errorMessage(_ handle: OpaquePointer) -> String? {
        guard let message = PQerrorMessage(handle) else {
            return nil
        }
        return Self.nonEmptyTrimmed(String(cString: message))
    }

    private static func parameterStatus(_ handle: OpaquePointer, _ name: String) -> String? {
        PQparameterStatus(handle, name).map { String(cString: $0) }
    }

    private static func nonEmptyTrimmed(_ text: String) -> String? {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace {
            text.removeLast()
        }
        return text.isEmpty ? nil : String(text)
    }
}
