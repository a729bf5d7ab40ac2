import RapportSupport
import Foundation

/// A field an admin adds to customers: typed, optionally required, validated on every write.
public struct CustomFieldDefinition: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case text, number, date, option
    }

    /// The field's key in the record: lowercase letters, digits and `_`, starting with a letter.
    public var key: String
    public var label: String
    public var kind: Kind
    /// The allowed values of an `option` field, in display order.
    public var options: [String]
    public var required: Bool
    /// Longest text accepted. Defaults to 500.
    public var maxLength: Int

    public init(key: String, label: String, kind: Kind, options: [String] = [], required: Bool = false,
                maxLength: Int = 500) throws(CustomFieldError) {
        let scalars = Array(key.unicodeScalars)
        guard let first = scalars.first, ("a"..."z").contains(first), scalars.count <= 40,
              scalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw CustomFieldError(.invalidDefinition, field: key, "a field key is 1-40 of a-z, 0-9 and _, starting with a letter")
        }
        guard kind == .option ? !options.isEmpty && Set(options).count == options.count : options.isEmpty else {
            throw CustomFieldError(.invalidDefinition, field: key, "an option field lists distinct options; other kinds list none")
        }
        self.key = key
        self.label = label
        self.kind = kind
        self.options = options
        self.required = required
        self.maxLength = max(1, maxLength)
    }

    /// The value as stored: text trimmed, numbers as numbers, dates as `YYYY-MM-DD`; `nil` for a blank.
    public func validate(_ value: JSONValue) throws(CustomFieldError) -> JSONValue? {
        if case .null = value { return nil }
        if case .string(let s) = value, s.allSatisfy(\.isWhitespace) { return nil }
        switch (self.kind, value) {
        case (.text, .string(let s)):
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.count <= self.maxLength else {
                throw CustomFieldError(.invalid, field: self.key, "\(self.label) is longer than \(self.maxLength) characters")
            }
            return .string(t)
        case (.number, .number(let n)) where n.isFinite:
            return .number(n)
        case (.number, .string(let s)):
            guard let n = Double(s.trimmingCharacters(in: .whitespaces)), n.isFinite else { break }
            return .number(n)
        case (.date, .string(let s)):
            let d = s.trimmingCharacters(in: .whitespaces)
            guard CivilCalendar.isValidISODate(d) else { break }
            return .string(d)
        case (.option, .string(let s)):
            let o = s.trimmingCharacters(in: .whitespaces)
            guard self.options.contains(o) else {
                throw CustomFieldError(.invalid, field: self.key,
                                       "\(self.label) must be one of \(self.options.joined(separator: ", ")), not \(o)")
            }
            return .string(o)
        default:
            break
        }
        throw CustomFieldError(.invalid, field: self.key, "\(self.label) must be a \(self.kind.expected)")
    }
}

extension CustomFieldDefinition.Kind {
    var expected: String {
        switch self {
        case .text: "text"
        case .number: "number"
        case .date: "date written YYYY-MM-DD"
        case .option: "one of its options"
        }
    }
}

/// The custom fields defined for customers, validating a record's values as a whole.
public struct CustomFields: Sendable {
    public let definitions: [String: CustomFieldDefinition]

    public init(_ definitions: [CustomFieldDefinition]) {
        self.definitions = Dictionary(definitions.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The values as stored. `merging` is the record's current values for an edit that sends only some:
    /// required fields are checked on the result, so an edit need not repeat them, and a blank removes a
    /// value. Unknown keys are refused, naming the first in key order.
    public func validate(_ values: [String: JSONValue], merging current: [String: JSONValue] = [:])
        throws(CustomFieldError) -> [String: JSONValue] {
        var out = current
        for key in values.keys.sorted() {
            guard let d = self.definitions[key] else {
                throw CustomFieldError(.unknownField, field: key, "no custom field \(key) is defined")
            }
            out[key] = try d.validate(values[key]!)
        }
        for d in self.definitions.values.sorted(by: { $0.key < $1.key }) where d.required && out[d.key] == nil {
            throw CustomFieldError(.missing, field: d.key, "\(d.label) is required")
        }
        return out
    }
}

/// A custom field definition or value that cannot be accepted; `field` names it.
public struct CustomFieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Code = ErrorCode<CustomFieldError>

    public var code: Code
    public var field: String
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { self.message }
}

extension ErrorCode where Owner == CustomFieldError {
    /// A value of the wrong type, out of its options, or too long.
    public static let invalid = Self("invalid")
    /// A key no definition has.
    public static let unknownField = Self("unknown_field")
    /// A required field without a value.
    public static let missing = Self("missing")
    /// A definition with a bad key or options.
    public static let invalidDefinition = Self("invalid_definition")
}
