import Foundation
import RapportSupport

/// A customer as people edit it: a person or a company, its contacts and addresses, level, industry,
/// channel, tags, owner and custom fields. Values are normalized as on ingest (phones to E.164, emails
/// lowercased, names trimmed), so identity keys and search tokens follow every edit.
public struct CustomerRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case person, company
    }

    public struct Contact: Sendable, Hashable {
        public var name: String
        public var title: String?
        public var phones: [String]
        public var emails: [String]
        public var primary: Bool

        public init(name: String, title: String? = nil, phones: [String] = [], emails: [String] = [], primary: Bool = false) {
            self.name = name
            self.title = title
            self.phones = phones
            self.emails = emails
            self.primary = primary
        }
    }

    public struct Address: Sendable, Hashable {
        public var label: String?
        public var province: String?
        public var city: String?
        public var district: String?
        public var line: String?
        public var primary: Bool

        public init(label: String? = nil, province: String? = nil, city: String? = nil, district: String? = nil, line: String? = nil,
                    primary: Bool = false) {
            self.label = label
            self.province = province
            self.city = city
            self.district = district
            self.line = line
            self.primary = primary
        }
    }

    public var kind: Kind = .person
    public var name: String = ""
    /// The customer's own phones (a person's; a company's switchboard), E.164, the primary first.
    public var phones: [String] = []
    public var emails: [String] = []
    /// A person's employer.
    public var company: String?
    public var contacts: [Contact] = []
    public var addresses: [Address] = []
    public var level: String = "C"
    public var industry: String?
    public var channel: String?
    public var tags: [String] = []
    public var owner: String?
    public var custom: [String: JSONValue] = [:]

    public init() {}

    /// The fields an add or edit may carry; anything else is refused as `unknown_field`.
    public static let fields: Set<String> = ["kind", "name", "phones", "emails", "company", "contacts", "addresses", "level",
                                             "industry", "channel", "tags", "owner", "custom"]

    /// `current` with the fields of `patch` applied (a new record when `current` is nil), normalized and
    /// validated; custom fields against `customFields`. Errors name the field (`contacts[1].phones[0]`).
    public static func applying(_ patch: [String: JSONValue], to current: CustomerRecord?,
                                customFields: CustomFields) throws(CustomerError) -> CustomerRecord {
        var r = current ?? CustomerRecord()
        let f = Fields(patch, path: "")
        if let unknown = patch.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw CustomerError(.unknownField, field: unknown, "customers have no field \(unknown)")
        }
        if let kind = try f.string("kind") {
            guard let k = Kind(rawValue: kind) else { throw CustomerError(.invalid, field: "kind", "kind is person or company") }
            r.kind = k
        }
        if f.has("name") { r.name = try f.string("name").flatMap(Normalize.name) ?? "" }
        if f.has("phones") { r.phones = try f.phones("phones") }
        if f.has("emails") { r.emails = try f.emails("emails") }
        if f.has("company") { r.company = try f.string("company").flatMap(Normalize.text) }
        if f.has("contacts") {
            r.contacts = try f.objects("contacts") { (c: Fields) throws(CustomerError) in
                guard let name = try c.string("name").flatMap(Normalize.name) else {
                    throw CustomerError(.invalid, field: c.path + "name", "a contact has a name")
                }
                return Contact(name: name, title: try c.string("title").flatMap(Normalize.text), phones: try c.phones("phones"),
                               emails: try c.emails("emails"), primary: try c.bool("primary") ?? false)
            }
            if !r.contacts.isEmpty && !r.contacts.contains(where: \.primary) { r.contacts[0].primary = true }
        }
        if f.has("addresses") {
            r.addresses = try f.objects("addresses") { (a: Fields) throws(CustomerError) in
                Address(label: try a.string("label").flatMap(Normalize.text), province: try a.string("province").flatMap(Normalize.text),
                        city: try a.string("city").flatMap(Normalize.text), district: try a.string("district").flatMap(Normalize.text),
                        line: try a.string("line").flatMap(Normalize.text), primary: try a.bool("primary") ?? false)
            }
            if !r.addresses.isEmpty && !r.addresses.contains(where: \.primary) { r.addresses[0].primary = true }
        }
        if let level = try f.string("level") { r.level = level }
        if f.has("industry") { r.industry = try f.string("industry").flatMap(Normalize.text) }
        if f.has("channel") { r.channel = try f.string("channel").flatMap(Normalize.text) }
        if f.has("tags") { r.tags = try f.strings("tags").compactMap(Normalize.text).reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
        if f.has("owner") { r.owner = try f.string("owner").flatMap(Normalize.text) }
        if f.has("custom") {
            guard let values = patch["custom"]?.objectValue else { throw CustomerError(.invalid, field: "custom", "custom is an object") }
            do {
                r.custom = try customFields.validate(values, merging: r.custom)
            } catch {
                throw CustomerError(ErrorCode(error.code.rawValue), field: "custom." + error.field, error.message)
            }
        } else if current == nil {
            do { r.custom = try customFields.validate([:]) } catch {
                throw CustomerError(ErrorCode(error.code.rawValue), field: "custom." + error.field, error.message)
            }
        }
        guard !r.name.isEmpty else { throw CustomerError(.invalid, field: "name", "a customer has a name") }
        return r
    }

    /// The primary address (the first marked, else the first).
    public var primaryAddress: Address? { self.addresses.first(where: \.primary) ?? self.addresses.first }

    /// Every phone and email of the customer and its contacts as identity keys, phones first.
    public var identityKeys: [String] {
        let phones = self.phones + self.contacts.flatMap(\.phones)
        let emails = self.emails + self.contacts.flatMap(\.emails)
        var seen = Set<String>()
        return (phones.map(IdentityKey.phone) + emails.map(IdentityKey.email)).filter { seen.insert($0).inserted }
    }

    /// What search indexes: names (the customer's, its company's, its contacts'), phones, emails,
    /// addresses and tags.
    public var searchDocument: SearchDocument {
        var f: [SearchDocument.Field] = [.init("name", self.kind == .company ? .company : .name, self.name)]
        if let c = self.company { f.append(.init("company", .company, c)) }
        f += self.phones.map { .init("phone", .phone, $0) } + self.emails.map { .init("email", .email, $0) }
        for c in self.contacts {
            f.append(.init("contact", .name, c.name))
            f += c.phones.map { .init("contact phone", .phone, $0) } + c.emails.map { .init("contact email", .email, $0) }
        }
        for a in self.addresses {
            f.append(.init("address", .text, [a.province, a.city, a.district, a.line].compactMap { $0 }.joined(separator: " ")))
        }
        f += self.tags.map { .init("tag", .text, $0) }
        return SearchDocument(f)
    }

    /// The record as JSON, the shape commands take and history compares.
    public var json: [String: JSONValue] {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func strings(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }
        return [
            "kind": .string(self.kind.rawValue), "name": .string(self.name), "phones": strings(self.phones),
            "emails": strings(self.emails), "company": opt(self.company),
            "contacts": .array(self.contacts.map { c in
                .object(["name": .string(c.name), "title": opt(c.title), "phones": strings(c.phones), "emails": strings(c.emails),
                         "primary": .bool(c.primary)])
            }),
            "addresses": .array(self.addresses.map { a in
                .object(["label": opt(a.label), "province": opt(a.province), "city": opt(a.city), "district": opt(a.district),
                         "line": opt(a.line), "primary": .bool(a.primary)])
            }),
            "level": .string(self.level), "industry": opt(self.industry), "channel": opt(self.channel), "tags": strings(self.tags),
            "owner": opt(self.owner), "custom": .object(self.custom),
        ]
    }

    /// Reads ``json`` back (a stored record: already normalized, so nothing is re-checked but shape).
    public init(json: [String: JSONValue]) throws(CustomerError) {
        self = try Self.applying(json.filter { Self.fields.contains($0.key) && $0.key != "custom" }, to: nil,
                                 customFields: CustomFields([]))
        self.custom = json["custom"]?.objectValue ?? [:]
    }

    /// Field readers that name the failing field by its path.
    struct Fields {
        let body: [String: JSONValue]
        let path: String

        init(_ body: [String: JSONValue], path: String) {
            self.body = body
            self.path = path
        }

        func has(_ key: String) -> Bool { self.body[key] != nil }

        func string(_ key: String) throws(CustomerError) -> String? {
            switch self.body[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case .number(let n)?: return n == n.rounded() ? String(Int64(n)) : String(n)
            default: throw CustomerError(.invalid, field: self.path + key, "\(key) is a string")
            }
        }

        func bool(_ key: String) throws(CustomerError) -> Bool? {
            switch self.body[key] {
            case nil, .null?: return nil
            case .bool(let b)?: return b
            default: throw CustomerError(.invalid, field: self.path + key, "\(key) is true or false")
            }
        }

        /// A list of strings; a single string counts as a list of one.
        func strings(_ key: String) throws(CustomerError) -> [String] {
            switch self.body[key] {
            case nil, .null?: return []
            case .string(let s)?: return [s]
            case .array(let a)?:
                var out: [String] = []
                for (i, v) in a.enumerated() {
                    guard let s = v.stringValue else { throw CustomerError(.invalid, field: "\(self.path)\(key)[\(i)]", "\(key) holds strings") }
                    out.append(s)
                }
                return out
            default: throw CustomerError(.invalid, field: self.path + key, "\(key) is a list of strings")
            }
        }

        func phones(_ key: String) throws(CustomerError) -> [String] {
            try self.normalized(key, { Normalize.phone($0) }, "is not a phone number")
        }

        func emails(_ key: String) throws(CustomerError) -> [String] {
            try self.normalized(key, { Normalize.email($0) }, "is not an email address")
        }

        /// The list's values normalized, blanks dropped, repeats once; a value `normalize` refuses is
        /// named by its index.
        private func normalized(_ key: String, _ normalize: (String) -> String?, _ problem: String) throws(CustomerError) -> [String] {
            var out: [String] = []
            for (i, raw) in try self.strings(key).enumerated() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let v = normalize(raw) else { throw CustomerError(.invalid, field: "\(self.path)\(key)[\(i)]", "\(raw) \(problem)") }
                if !out.contains(v) { out.append(v) }
            }
            return out
        }

        func objects<T>(_ key: String, _ each: (Fields) throws(CustomerError) -> T) throws(CustomerError) -> [T] {
            switch self.body[key] {
            case nil, .null?: return []
            case .array(let a)?:
                var out: [T] = []
                for (i, v) in a.enumerated() {
                    guard let o = v.objectValue else { throw CustomerError(.invalid, field: "\(self.path)\(key)[\(i)]", "\(key) holds objects") }
                    out.append(try each(Fields(o, path: "\(self.path)\(key)[\(i)].")))
                }
                return out
            default: throw CustomerError(.invalid, field: self.path + key, "\(key) is a list of objects")
            }
        }
    }
}

/// A customer command that cannot be applied; `field` names what failed when one field did.
public struct CustomerError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Code = ErrorCode<CustomerError>

    public var code: Code
    public var field: String?
    public var message: String
    /// For `conflict`: the record as it is now, so the caller can redo the edit on it.
    public var current: JSONValue?

    public init(_ code: Code, field: String? = nil, _ message: String, current: JSONValue? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.current = current
    }

    public var description: String { "\(self.code): " + (self.field.map { "\($0): " } ?? "") + self.message }
}

extension ErrorCode where Owner == CustomerError {
    /// A value of the wrong type or form (a phone that is not one, an unknown level or option).
    public static let invalid = Self("invalid")
    /// A field customers do not have (or a custom field nobody defined).
    public static let unknownField = Self("unknown_field")
    /// A required custom field left empty.
    public static let missing = Self("missing")
    /// The edit was made on an older version than the one stored; `current` is the stored one.
    public static let conflict = Self("conflict")
    /// No such customer, contact, merge, prospect or article.
    public static let notFound = Self("not_found")
}
