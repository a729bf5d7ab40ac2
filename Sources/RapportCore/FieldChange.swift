import RapportSupport

/// One field's change, for a record's history (who and when are the caller's): issue 11 keeps every
/// customer field change as old → new.
public struct FieldChange: Sendable, Hashable {
    /// The field's path: a top-level key, or `parent.child` inside an object (`custom.tier`).
    public var field: String
    /// `nil`: the field was absent (added); for `new`, removed.
    public var old: JSONValue?
    public var new: JSONValue?

    public init(field: String, old: JSONValue?, new: JSONValue?) {
        self.field = field
        self.old = old
        self.new = new
    }

    /// The changes from `old` to `new`, in field order. Objects are compared key by key (so a custom field
    /// edit is recorded as that field, not the whole object); arrays and scalars as values. `null` counts
    /// as absent.
    public static func between(_ old: [String: JSONValue], _ new: [String: JSONValue], prefix: String = "") -> [FieldChange] {
        var out: [FieldChange] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            let a = old[key].flatMap { $0 == .null ? nil : $0 }
            let b = new[key].flatMap { $0 == .null ? nil : $0 }
            guard a != b else { continue }
            if case .object(let x)? = a, case .object(let y)? = b {
                out += Self.between(x, y, prefix: prefix + key + ".")
            } else {
                out.append(FieldChange(field: prefix + key, old: a, new: b))
            }
        }
        return out
    }
}
