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
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

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
        var output: [UInt8] = []
        output.reserveCapacity(256)
        self.write(into: &output)
        return String(decoding: output, as: UTF8.self)
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
        try JSONParser.parse(bytes)
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

    // Writes UTF-8 bytes: appending to a String scalar by scalar was the ingest path's biggest cost.
    func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            output.append(contentsOf: Self.format(number: value).utf8)
        case .string(let value):
            Self.writeEscaped(value, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeEscaped(key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func format(number value: Double) -> String {
        guard value.isFinite else { return "null" }
        // 2^63 is exactly representable; every integral Double below it converts to Int64 exactly.
        if value == value.rounded(.towardZero), value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 {
            return String(Int64(value))
        }
        return value.description
    }

    static func writeEscaped(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default:
                output.append(byte)  // UTF-8 passes through unchanged
            }
        }
        output.append(UInt8(ascii: "\""))
    }

}

extension JSONValue {
    /// A string, or `null` for `nil`.
    public static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
