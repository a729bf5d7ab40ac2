internal import CLibPQ

/// The outcome of a statement: its column names, its rows (as text) and the affected row count.
///
/// `PGResult` is a collection of ``PGRow``s, so it can be iterated and indexed directly:
///
/// ```swift
/// let result = try connection.query("select id from jobs")
/// let ids = try result.map { try $0.decode("id", as: Int64.self) }
/// ```
///
/// All values are copied out of libpq when the result is created; a `PGResult` owns no C memory.
public struct PGResult: Sendable, RandomAccessCollection {
    /// A position in the result.
    public typealias Index = Int
    /// A row of the result.
    public typealias Element = PGRow

    /// The column names, in order.
    public let columns: [String]
    /// The rows, in order.
    public let rows: [PGRow]
    /// The number of rows affected by an `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `SELECT`,
    /// `MOVE`, `FETCH` or `COPY` (`PQcmdTuples`); `0` for other statements.
    public let affectedRows: Int

    /// Always `0`.
    public var startIndex: Int { 0 }
    /// The number of rows.
    public var endIndex: Int { self.rows.count }

    /// The row at `position`.
    public subscript(position: Int) -> PGRow {
        self.rows[position]
    }

    /// Copies everything out of a `PGresult *`; the caller still owns and clears it.
    internal init(copying result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "")
        }
        let lookup = PGRow.ColumnLookup(columns: columns)
        var rows: [PGRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    values.append(nil)
                } else {
                    values.append(PQgetvalue(result, Int32(row), Int32(column)).map { String(cString: $0) })
                }
            }
            rows.append(PGRow(lookup: lookup, values: values))
        }
        self.columns = columns
        self.rows = rows
        if let tuples = PQcmdTuples(result) {
            self.affectedRows = Int(String(cString: tuples)) ?? 0
        } else {
            self.affectedRows = 0
        }
    }
}

/// One row of a ``PGResult``: text values by column name or position.
///
/// ```swift
/// let id: UUID = try row.decode("id")
/// let note = try row.decodeIfPresent("note", as: String.self)   // nil when NULL
/// let raw = row["created_at"]                                     // String?
/// ```
public struct PGRow: Sendable {
    /// Column names and a name-to-index map shared by every row of one result.
    internal final class ColumnLookup: Sendable {
        let columns: [String]
        let indexes: [String: Int]

        init(columns: [String]) {
            self.columns = columns
            // With duplicate names the first column wins, as in most drivers.
            self.indexes = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    private let lookup: ColumnLookup
    private let values: [String?]

    internal init(lookup: ColumnLookup, values: [String?]) {
        self.lookup = lookup
        self.values = values
    }

    /// The column names, in order.
    public var columns: [String] {
        self.lookup.columns
    }

    /// The text value of the column named `column`; `nil` when it is SQL `NULL` or there is
    /// no such column.
    ///
    /// If several columns share the name, the first one is used.
    public subscript(_ column: String) -> String? {
        guard let index = self.lookup.indexes[column] else {
            return nil
        }
        return self.values[index]
    }

    /// The text value of the column at `index`; `nil` when it is SQL `NULL` or out of range.
    public subscript(_ index: Int) -> String? {
        guard self.values.indices.contains(index) else {
            return nil
        }
        return self.values[index]
    }

    /// Decodes the column named `column` as `T`.
    ///
    /// - Parameters:
    ///   - column: The column name.
    ///   - type: The type to decode; usually inferred.
    /// - Returns: The decoded value.
    /// - Throws: ``PGError`` with code ``PGError/Code/decode`` naming the column if it does not
    ///   exist, is SQL `NULL`, or its text cannot be parsed as `T`.
    public func decode<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try self.decodeIfPresent(column, as: type) else {
            throw PGError(.decode, message: "column \"\(column)\" is NULL; cannot decode \(T.self)")
        }
        return value
    }

    /// Decodes the column named `column` as `T`, or returns `nil` when it is SQL `NULL`.
    ///
    /// - Parameters:
    ///   - column: The column name.
    ///   - type: The type to decode; usually inferred.
    /// - Returns: The decoded value, or `nil` for SQL `NULL`.
    /// - Throws: ``PGError`` with code ``PGError/Code/decode`` naming the column if it does not
    ///   exist (a missing column is treated as a mistake, not as `NULL`) or its text cannot be
    ///   parsed as `T`.
    public func decodeIfPresent<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = self.lookup.indexes[column] else {
            throw PGError(
                .decode,
                message: "no column \"\(column)\" in the result (columns: \(self.lookup.columns.joined(separator: ", ")))"
            )
        }
        guard let text = self.values[index] else {
            return nil
        }
        do {
            return try T(pgText: text)
        } catch let error as PGError {
            throw PGError(
                .decode,
                message: "column \"\(column)\": \(error.message)",
                sqlState: error.sqlState,
                detail: error.detail
            )
        } catch {
            throw PGError(.decode, message: "column \"\(column)\": cannot decode \(T.self): \(error)")
        }
    }
}
