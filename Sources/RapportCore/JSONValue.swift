import Foundation

/// A JSON value, for open-ended payload parts (utm, extra form fields).
///
/// `JSONValue` keeps whatever a publisher sent without committing to a schema. It is `Hashable`, so two
/// payloads can be compared, and ``jsonString`` renders it deterministically (sorted keys, compact), so the
/// same value always produces the same text, for example when it is stored in a `jsonb` column or hashed.
///
/// - Note: Numbers are held as `Double`. Integers up to 2^53 round-trip exactly; larger integers lose
///   precision, as they do in JavaScript.
public enum JSONValue: Sendable, Hashable, Codable {
    /// The JSON literal `null`.
    case null
    /// A JSON `true` or `false`.
    case bool(Bool)
    /// A JSON number.
    case number(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object. Key order is not significant.
    case object([String: JSONValue])

    /// The string payload when this is a ``JSONValue/string(_:)``, else `nil`.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The members when this is a ``JSONValue/object(_:)``, else `nil`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Compact JSON text with keys sorted (deterministic), correct string escaping; integers in the Double range print without ".0".
    ///
    /// Keys are sorted by their UTF-8 bytes (which is Unicode code point order). Strings escape `"`, `\` and
    /// the control characters below U+0020 (`\b \f \n \r \t`, others as `\u00XX`); every other character,
    /// including non-ASCII, is written as UTF-8. Integral numbers in the `Int64` range print as integers
    /// (`1`, `-3`, `13800138000`); other numbers use Swift's shortest round-tripping form (`0.1`, `1e+300`).
    /// NaN and infinities, which JSON cannot express, print as `null`.
    ///
    /// Parsing the result with ``parse(_:)`` gives back an equal value.
    public var jsonString: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    /// Parses strict JSON (RFC 8259) from UTF-8 bytes.
    ///
    /// Any JSON value is accepted at the top level, not only objects and arrays. A leading UTF-8 byte order
    /// mark is ignored. When an object repeats a key, the first occurrence wins.
    ///
    /// - Parameter bytes: The JSON text, encoded as UTF-8.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONValue/ParseError`` when the bytes are not valid UTF-8 or not valid JSON. The error
    ///   says what was wrong and, where known, at which byte; it never quotes the input.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        if bytes.isEmpty {
            throw ParseError(reason: "the data is empty", byteOffset: 0)
        }
        if let offset = Self.firstInvalidUTF8Offset(bytes) {
            throw ParseError(reason: "the data is not valid UTF-8 (first bad byte at offset \(offset))", byteOffset: offset)
        }
        if let offset = bytes.firstIndex(of: 0) {
            // JSON never allows a raw NUL; rejecting it also stops Foundation from guessing UTF-16/32.
            throw ParseError(reason: "unexpected NUL byte at byte \(offset)", byteOffset: offset)
        }
        let data = Data(bytes)
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            // JSONDecoder's messages are generic ("not valid JSON"); JSONSerialization says what and where.
            throw Self.describeFailure(of: data, fallback: error)
        }
        // Foundation tolerates "[1,]" and "{"a":1,}"; RFC 8259 does not.
        if let offset = Self.trailingCommaOffset(bytes) {
            throw ParseError(reason: "trailing comma at byte \(offset)", byteOffset: offset)
        }
        return value
    }

    /// Why ``JSONValue/parse(_:)`` rejected its input.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A short lowercase phrase such as `unexpected end of data` or `invalid value at byte 17`.
        ///
        /// It never quotes the input.
        public var reason: String
        /// The byte offset of the problem, when the parser reported one.
        public var byteOffset: Int?

        /// Creates a parse error.
        ///
        /// - Parameters:
        ///   - reason: A short lowercase phrase describing the problem.
        ///   - byteOffset: The byte offset of the problem, if known.
        public init(reason: String, byteOffset: Int? = nil) {
            self.reason = reason
            self.byteOffset = byteOffset
        }

        /// The ``reason``.
        public var description: String { self.reason }
    }

    // MARK: Codable

    /// Decodes any JSON value.
    ///
    /// - Parameter decoder: The decoder to read from.
    /// - Throws: `DecodingError` when the value is not JSON-shaped.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a valid JSON value.")
        }
    }

    /// Encodes the value as the matching JSON type.
    ///
    /// - Parameter encoder: The encoder to write to.
    /// - Throws: Whatever the encoder throws, for example for a non-finite number.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    // MARK: Writing

    private func write(into output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .number(let value):
            output += Self.format(number: value)
        case .string(let value):
            Self.writeEscaped(value, into: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                Self.writeEscaped(key, into: &output)
                output += ":"
                members[key]!.write(into: &output)
            }
            output += "}"
        }
    }

    private static func format(number value: Double) -> String {
        guard value.isFinite else { return "null" }
        // 2^63 is exactly representable; every integral Double below it converts to Int64 exactly.
        if value == value.rounded(.towardZero), value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 {
            return String(Int64(value))
        }
        return value.description
    }

    private static func writeEscaped(_ string: String, into output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    // MARK: Parsing helpers

    private static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                return nil
            case .error:
                return offset
            }
        }
    }

    /// The offset of a "," followed only by whitespace and then "]" or "}".
    ///
    /// Only meaningful for text that Foundation already parsed, so strings and nesting are well-formed.
    private static func trailingCommaOffset(_ bytes: [UInt8]) -> Int? {
        var inString = false
        var escaped = false
        var pendingComma: Int?
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if let comma = pendingComma { return comma }
            case UInt8(ascii: ","):
                pendingComma = offset
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            pendingComma = nil
        }
        return nil
    }

    private static func describeFailure(of data: Data, fallback: any Error) -> ParseError {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let nsError = error as NSError
            if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String {
                return Self.parseError(fromFoundationDetail: detail)
            }
        }
        // Both parsers disagree or gave no detail; say something generic rather than nothing.
        if case DecodingError.typeMismatch = fallback {
            return ParseError(reason: "a value is malformed (bad number, string or escape)")
        }
        return ParseError(reason: "the text is not well-formed JSON")
    }

    /// Turns Foundation's "Invalid value around character 17." into "invalid value at byte 17".
    private static func parseError(fromFoundationDetail detail: String) -> ParseError {
        var text = detail.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(".") { text.removeLast() }
        text = text.replacingOccurrences(of: "around character", with: "at byte")
        text = text.replacingOccurrences(of: "Unexpected end of file", with: "unexpected end of data")
        if let first = text.first, first.isUppercase {
            text = first.lowercased() + text.dropFirst()
        }
        var offset: Int?
        if let range = text.range(of: "at byte ") {
            offset = Int(text[range.upperBound...].prefix(while: \.isNumber))
        }
        // Foundation's messages may echo a token (e.g. "Number 1e400 is not representable"); cap the length.
        if text.count > 100 {
            text = String(text.prefix(100)) + "…"
        }
        return ParseError(reason: text, byteOffset: offset)
    }
}
