public import Foundation

/// A Swift value that can be created from PostgreSQL's text output format.
///
/// Conforming types: `String`, `Int`, `Int32`, `Int64`, `Double`, `Bool`, `UUID`, `Date`
/// (`timestamptz`, `timestamp` or `date` output with `DateStyle` ISO), `Data` and `[UInt8]`
/// (`bytea`), and arrays of ``PGArrayElement`` types such as `[String]` (one-dimensional
/// arrays without `NULL` elements).
///
/// Decode through ``PGRow/decode(_:as:)``, which adds the column name to any error.
public protocol PGDecodable: Sendable {
    /// Parses the server's text output.
    ///
    /// - Parameter pgText: The column value in text format (never SQL `NULL`).
    /// - Throws: ``PGError`` with code ``PGError/Code/decode`` if the text cannot be parsed.
    init(pgText: String) throws
}

extension PGError {
    /// A decode error for `text` that is not a valid `type`.
    internal static func unparsable(_ text: String, as type: Any.Type, file: String = #fileID, line: Int = #line) -> PGError {
        let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
        return PGError(.decode, message: "cannot decode \(type) from \(String(reflecting: shown))", file: file, line: line)
    }
}

extension String: PGDecodable {
    /// Uses the text as is.
    public init(pgText: String) throws {
        self = pgText
    }
}

extension Int: PGDecodable {
    /// Parses decimal digits, as output for `smallint`, `integer` and `bigint`.
    public init(pgText: String) throws {
        guard let value = Int(pgText) else {
            throw PGError.unparsable(pgText, as: Int.self)
        }
        self = value
    }
}

extension Int32: PGDecodable {
    /// Parses decimal digits, as output for `smallint` and `integer`.
    public init(pgText: String) throws {
        guard let value = Int32(pgText) else {
            throw PGError.unparsable(pgText, as: Int32.self)
        }
        self = value
    }
}

extension Int64: PGDecodable {
    /// Parses decimal digits, as output for `smallint`, `integer` and `bigint`.
    public init(pgText: String) throws {
        guard let value = Int64(pgText) else {
            throw PGError.unparsable(pgText, as: Int64.self)
        }
        self = value
    }
}

extension Double: PGDecodable {
    /// Parses `real`, `double precision` or `numeric` output, including `Infinity`,
    /// `-Infinity` and `NaN`.
    public init(pgText: String) throws {
        switch pgText {
        case "Infinity":
            self = .infinity
        case "-Infinity":
            self = -.infinity
        case "NaN":
            self = .nan
        default:
            guard let value = Double(pgText) else {
                throw PGError.unparsable(pgText, as: Double.self)
            }
            self = value
        }
    }
}

extension Bool: PGDecodable {
    /// Parses `t`/`f` (the `boolean` output), also accepting `true`/`false`, `1`/`0`,
    /// `yes`/`no` and `on`/`off`.
    public init(pgText: String) throws {
        switch pgText.lowercased() {
        case "t", "true", "1", "yes", "y", "on":
            self = true
        case "f", "false", "0", "no", "n", "off":
            self = false
        default:
            throw PGError.unparsable(pgText, as: Bool.self)
        }
    }
}

extension UUID: PGDecodable {
    /// Parses the hyphenated form output for `uuid`.
    public init(pgText: String) throws {
        guard let value = UUID(uuidString: pgText) else {
            throw PGError.unparsable(pgText, as: UUID.self)
        }
        self = value
    }
}

extension Date: PGDecodable {
    /// Parses `timestamptz` output with `DateStyle` ISO, such as
    /// `2026-11-25 11:54:40.123456+00`, `2026-11-25 11:54:40+05:30` or
    /// `1900-01-01 00:00:00+00:19:32`.
    ///
    /// Also accepts a `T` separator, a `Z` suffix, a ` BC` suffix, `timestamp` output without
    /// an offset (read as UTC) and `date` output (midnight UTC). `infinity` and `-infinity`
    /// become `Date.distantFuture` and `Date.distantPast`.
    public init(pgText: String) throws {
        self = try PGTimestamp.parse(pgText)
    }
}

extension Data: PGDecodable {
    /// Parses `bytea` output in hex format (`\x0a1b`) or the older escape format.
    public init(pgText: String) throws {
        self = Data(try PGBytea.parse(pgText))
    }
}
