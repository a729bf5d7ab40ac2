public import Foundation

/// A type whose Swift arrays are ``PGEncodable`` and ``PGDecodable``.
///
/// For most element types an array is a one-dimensional PostgreSQL array literal such as
/// `{"a","b \"quoted\""}`, usable as `$1::text[]` or with `= any($1)`. The exception is
/// `UInt8`: `[UInt8]` is sent and received as `bytea`, like `Data`.
///
/// Conforming types: `String`, `Int`, `Int32`, `Int64`, `Double`, `Bool`, `UUID`, `Date` and
/// `UInt8`. Any type that is both ``PGEncodable`` and ``PGDecodable`` can conform with an
/// empty extension. Arrays with `NULL` elements or more than one dimension cannot be decoded.
public protocol PGArrayElement: Sendable {
    /// The text input format for an array of `elements`.
    static func pgArrayText(_ elements: [Self]) -> String

    /// Parses the text output format of an array.
    ///
    /// - Throws: ``PGError`` with code ``PGError/Code/decode`` if the text is not a
    ///   one-dimensional array of valid elements without `NULL`s.
    static func pgArray(fromText text: String) throws -> [Self]
}

extension PGArrayElement where Self: PGEncodable & PGDecodable {
    /// An array literal with every element double-quoted and escaped, for example `{"1","2"}`.
    public static func pgArrayText(_ elements: [Self]) -> String {
        PGArrayLiteral.format(elements.map(\.pgText))
    }

    /// Parses a one-dimensional array literal and decodes each element.
    public static func pgArray(fromText text: String) throws -> [Self] {
        try PGArrayLiteral.parse(text).enumerated().map { index, element in
            guard let element else {
                throw PGError(.decode, message: "array element \(index + 1) is NULL; cannot decode \(Self.self)")
            }
            return try Self(pgText: element)
        }
    }
}

extension String: PGArrayElement {}
extension Int: PGArrayElement {}
extension Int32: PGArrayElement {}
extension Int64: PGArrayElement {}
extension Double: PGArrayElement {}
extension Bool: PGArrayElement {}
extension UUID: PGArrayElement {}
extension Date: PGArrayElement {}

extension UInt8: PGArrayElement {
    /// The `bytea` hex format, for example `\x0a1b`: `[UInt8]` is binary data, not `smallint[]`.
    public static func pgArrayText(_ elements: [UInt8]) -> String {
        PGBytea.format(elements)
    }

    /// Parses `bytea` output in hex or escape format.
    public static func pgArray(fromText text: String) throws -> [UInt8] {
        try PGBytea.parse(text)
    }
}

extension Array: PGEncodable where Element: PGArrayElement {
    /// An array literal, or `bytea` for `[UInt8]`; see ``PGArrayElement``.
    public var pgText: String {
        Element.pgArrayText(self)
    }
}

extension Array: PGDecodable where Element: PGArrayElement {
    /// Parses an array literal, or `bytea` for `[UInt8]`; see ``PGArrayElement``.
    public init(pgText: String) throws {
        self = try Element.pgArray(fromText: pgText)
    }
}

/// PostgreSQL array literal formatting and parsing (one dimension, `,` delimiter).
internal enum PGArrayLiteral {
    /// `{"a","b"}` with `"` and `\` escaped, so `NULL`, empty strings, commas, braces and
    /// whitespace all survive as plain text.
    ///
    /// Byte by byte: `"` and `\` never occur inside a multi-byte UTF-8 sequence, and appending scalars to
    /// a String was a tenth of an ingest batch's CPU (arrays of keys, ids and hex).
    static func format(_ elements: [String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `{a,"b c",NULL}` (optionally preceded by a `[1:3]=` bounds decoration) into its
    /// elements, with `nil` for an unquoted `NULL`.
    static func parse(_ text: String) throws -> [String?] {
        let bytes = Array(text.utf8)
        var position = 0

        func fail(_ reason: String) -> PGError {
            PGError.unparsable(text, as: [String].self).appendingReason(reason)
        }
        func skipWhitespace() {
            while position < bytes.count, Self.isWhitespace(bytes[position]) {
                position += 1
            }
        }

        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "[") {
            // Bounds decoration such as "[0:2]=" when the lower bound is not 1.
            guard let equals = bytes[position...].firstIndex(of: UInt8(ascii: "=")) else {
                throw fail("bad dimension decoration")
            }
            position = equals + 1
            skipWhitespace()
        }
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else {
            throw fail("expected \"{\"")
        }
        position += 1
        skipWhitespace()
        var elements: [String?] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard position < bytes.count else {
                    throw fail("unterminated array")
                }
                var element: [UInt8] = []
                switch bytes[position] {
                case UInt8(ascii: "{"):
                    throw fail("multi-dimensional arrays are not supported")
                case UInt8(ascii: "\""):
                    position += 1
                    var closed = false
                    while position < bytes.count {
                        let byte = bytes[position]
                        position += 1
                        if byte == UInt8(ascii: "\\") {
                            guard position < bytes.count else {
                                break
                            }
                            element.append(bytes[position])
                            position += 1
                        } else if byte == UInt8(ascii: "\"") {
                            closed = true
                            break
                        } else {
                            element.append(byte)
                        }
                    }
                    guard closed else {
                        throw fail("unterminated quoted element")
                    }
                    elements.append(String(decoding: element, as: UTF8.self))
                default:
                    var escaped = false
                    // Length of `element` up to the last escaped or non-space byte.
                    var significant = 0
                    while position < bytes.count {
                        let byte = bytes[position]
                        if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") {
                            break
                        }
                        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "\"") {
                            throw fail("unexpected character in unquoted element")
                        }
                        position += 1
                        if byte == UInt8(ascii: "\\") {
                            guard position < bytes.count else {
                                throw fail("dangling backslash")
                            }
                            element.append(bytes[position])
                            position += 1
                            escaped = true
                            significant = element.count
                        } else {
                            element.append(byte)
                            if !Self.isWhitespace(byte) {
                                significant = element.count
                            }
                        }
                    }
                    element.removeSubrange(significant...)
                    guard !element.isEmpty else {
                        throw fail("empty unquoted element")
                    }
                    let value = String(decoding: element, as: UTF8.self)
                    if !escaped, value.uppercased() == "NULL" {
                        elements.append(nil)
                    } else {
                        elements.append(value)
                    }
                }
                skipWhitespace()
                guard position < bytes.count else {
                    throw fail("unterminated array")
                }
                let separator = bytes[position]
                position += 1
                if separator == UInt8(ascii: "}") {
                    break
                }
                guard separator == UInt8(ascii: ",") else {
                    throw fail("expected \",\" or \"}\"")
                }
            }
        }
        skipWhitespace()
        guard position == bytes.count else {
            throw fail("unexpected text after \"}\"")
        }
        return elements
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}

extension PGError {
    /// The same error with `reason` added to the message.
    internal func appendingReason(_ reason: String) -> PGError {
        var error = self
        error.message += " (\(reason))"
        return error
    }
}
