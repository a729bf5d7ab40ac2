public import Foundation

/// A Swift value that can be sent to PostgreSQL as a text-format query parameter.
///
/// Conforming types: `String`, `Int`, `Int32`, `Int64`, `Double`, `Bool` (`t`/`f`), `UUID`
/// (lowercase), `Date` (ISO 8601 UTC with microseconds, for `timestamptz`), `Data` and
/// `[UInt8]` (`bytea` hex format), and arrays of ``PGArrayElement`` types such as `[String]`
/// and `[Int64]` (array literals).
///
/// To send your own type, return the text PostgreSQL accepts as input for the target column
/// type; add a cast in SQL (`$1::inet`) if the server cannot infer it.
public protocol PGEncodable: Sendable {
    /// The value in PostgreSQL's text input format.
    var pgText: String { get }
}

extension String: PGEncodable {
    /// The string itself.
    public var pgText: String { self }
}

extension Int: PGEncodable {
    /// The decimal digits, for example `-42`.
    public var pgText: String { String(self) }
}

extension Int32: PGEncodable {
    /// The decimal digits, for example `-42`.
    public var pgText: String { String(self) }
}

extension Int64: PGEncodable {
    /// The decimal digits, for example `-42`.
    public var pgText: String { String(self) }
}

extension Double: PGEncodable {
    /// The shortest text that reads back as the same value; `Infinity`, `-Infinity` or `NaN`
    /// for the special values.
    public var pgText: String {
        if self.isNaN {
            return "NaN"
        }
        if self.isInfinite {
            return self < 0 ? "-Infinity" : "Infinity"
        }
        return self.description
    }
}

extension Bool: PGEncodable {
    /// `t` or `f`.
    public var pgText: String { self ? "t" : "f" }
}

extension UUID: PGEncodable {
    /// The lowercase hyphenated form, for example `0b5e3f7a-…`.
    public var pgText: String { self.uuidString.lowercased() }
}

extension Date: PGEncodable {
    /// ISO 8601 in UTC with microseconds, for example `2026-11-25T11:54:40.123456Z`.
    ///
    /// Dates before year 1 get a ` BC` suffix, as PostgreSQL expects. Dates too far away for
    /// PostgreSQL become `infinity` or `-infinity`; a NaN date is sent as `NaN`, which the
    /// server rejects.
    public var pgText: String { PGTimestamp.format(self) }
}

extension Data: PGEncodable {
    /// The `bytea` hex format, for example `\x0a1b`.
    public var pgText: String { PGBytea.format(self) }
}
