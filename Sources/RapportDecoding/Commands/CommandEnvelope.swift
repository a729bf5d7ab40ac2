import Foundation
import RapportCore
import RapportSupport

/// A command message after the checks every message passes (``InboundChecks/common(_:maxBodyBytes:)``),
/// a JSON object body, and who asked: the authorized `user_id`, else `actor` in the body, else `app_id`.
public struct CommandEnvelope: Sendable {
    /// The body's fields.
    public let fields: CommandFields
    /// Who asked, for the history.
    public let actor: String
    /// The idempotency key: a command is applied once per message id.
    public let messageID: String

    /// Checks a command message.
    ///
    /// - Throws: the first check that fails, naming its field.
    public static func parse(_ e: InboundEnvelope, maxBodyBytes: Int = 64 * 1024) throws(InboundRejection) -> CommandEnvelope {
        let messageID = try InboundChecks.common(e, maxBodyBytes: maxBodyBytes)
        let body = try InboundChecks.object(e.body)
        let actor = (e.authenticatedSource ?? body["actor"]?.stringValue ?? e.appID)?.trimmingCharacters(in: .whitespaces)
        guard let actor, !actor.isEmpty else {
            throw InboundRejection(code: .invalidField, reason: "Commands name who asked: an `actor` string (or the app_id property).", field: "actor")
        }
        return CommandEnvelope(fields: CommandFields(body), actor: actor, messageID: messageID)
    }
}

/// Field readers for command bodies; each failure names the field.
public struct CommandFields: Sendable {
    public let body: [String: JSONValue]

    public init(_ body: [String: JSONValue]) { self.body = body }

    /// Whether the body has `key` at all (even as `null`).
    public func has(_ key: String) -> Bool { self.body[key] != nil }

    private func present(_ key: String) -> JSONValue? {
        guard let v = self.body[key], v != .null else { return nil }
        return v
    }

    private static func invalid(_ key: String, _ reason: String) -> InboundRejection {
        InboundRejection(code: .invalidField, reason: reason, field: key)
    }

    public func string(_ key: String) throws(InboundRejection) -> String {
        guard let s = self.body[key]?.stringValue, !s.isEmpty else { throw Self.invalid(key, "`\(key)` must be a non-empty string.") }
        return s
    }

    public func optionalString(_ key: String) throws(InboundRejection) -> String? {
        guard let v = self.present(key) else { return nil }
        guard let s = v.stringValue else { throw Self.invalid(key, "`\(key)` must be a string.") }
        return s
    }

    public func uuid(_ key: String) throws(InboundRejection) -> UUID {
        guard let s = self.body[key]?.stringValue, let u = UUID(uuidString: s) else { throw Self.invalid(key, "`\(key)` must be an id (UUID).") }
        return u
    }

    public func uuids(_ key: String) throws(InboundRejection) -> [UUID] {
        let bad = Self.invalid(key, "`\(key)` must be a non-empty array of ids (UUIDs).")
        guard case .array(let items)? = self.body[key], !items.isEmpty else { throw bad }
        var out: [UUID] = []
        for item in items {
            guard let s = item.stringValue, let u = UUID(uuidString: s) else { throw bad }
            out.append(u)
        }
        return out
    }

    /// `uuids` when the body has `key`, else `nil`.
    public func optionalUUIDs(_ key: String) throws(InboundRejection) -> [UUID]? {
        self.has(key) ? try self.uuids(key) : nil
    }

    /// An integer of at least `minimum` (also as a string).
    public func integer(_ key: String, minimum: Int64 = 1) throws(InboundRejection) -> Int64 {
        guard let n = try self.optionalInteger(key, minimum: minimum) else {
            throw Self.invalid(key, "`\(key)` must be an integer of at least \(minimum).")
        }
        return n
    }

    public func optionalInteger(_ key: String, minimum: Int64 = 1) throws(InboundRejection) -> Int64? {
        let bad = Self.invalid(key, "`\(key)` must be an integer of at least \(minimum).")
        switch self.present(key) {
        case nil: return nil
        case .number(let d)? where d >= Double(minimum) && d < 9e15 && d.rounded() == d: return Int64(d)
        case .string(let s)?:
            guard let n = Int64(s), n >= minimum else { throw bad }
            return n
        default: throw bad
        }
    }

    /// An ISO 8601 time with an offset (`2026-11-25T09:30:00+08:00`), read as web forms read it.
    public func date(_ key: String) throws(InboundRejection) -> Date {
        guard let d = try self.optionalDate(key) else { throw Self.invalid(key, "`\(key)` is required (ISO 8601 time).") }
        return d
    }

    public func optionalDate(_ key: String) throws(InboundRejection) -> Date? {
        guard let v = self.present(key) else { return nil }
        guard let s = v.stringValue, let d = ISO8601.date(s) else { throw Self.invalid(key, "`\(key)` must be an ISO 8601 time with an offset.") }
        return d
    }

    /// What a follow-up is about: `lead_id` or `customer_id`.
    public func subject() throws(InboundRejection) -> FollowUpSubject {
        if self.has("lead_id") { return .lead(try self.uuid("lead_id")) }
        if self.has("customer_id") { return .customer(try self.uuid("customer_id")) }
        throw Self.invalid("lead_id", "Give `lead_id` or `customer_id`.")
    }

    /// A decimal (JSON number or numeric string).
    public func decimal(_ key: String) throws(InboundRejection) -> Decimal {
        guard let d = try self.optionalDecimal(key) else { throw Self.invalid(key, "`\(key)` must be a decimal number.") }
        return d
    }

    public func optionalDecimal(_ key: String) throws(InboundRejection) -> Decimal? {
        let bad = Self.invalid(key, "`\(key)` must be a decimal number.")
        switch self.present(key) {
        case nil: return nil
        case .number(let d)? where d.isFinite:
            guard let m = Money.parse(String(d)) else { throw bad }
            return m
        case .string(let t)?:
            guard let m = Money.parse(t) else { throw bad }
            return m
        default: throw bad
        }
    }

    /// A `yyyy-mm-dd` date.
    public func day(_ key: String) throws(InboundRejection) -> String {
        guard let d = try self.optionalDay(key) else { throw Self.invalid(key, "`\(key)` is required (yyyy-mm-dd).") }
        return d
    }

    public func optionalDay(_ key: String) throws(InboundRejection) -> String? {
        switch self.present(key) {
        case nil: return nil
        case .string(let t)? where CivilCalendar.isValidISODate(t): return t
        default: throw Self.invalid(key, "`\(key)` must be a date, yyyy-mm-dd.")
        }
    }

    /// A non-empty array of objects, each read with `item` (its field names prefixed `key[i].` on failure).
    public func objects<T>(_ key: String, _ item: (CommandFields) throws(InboundRejection) -> T) throws(InboundRejection) -> [T] {
        guard case .array(let items)? = self.body[key], !items.isEmpty else { throw Self.invalid(key, "`\(key)` must be a non-empty array.") }
        var out: [T] = []
        for (i, v) in items.enumerated() {
            guard let o = v.objectValue else { throw Self.invalid("\(key)[\(i)]", "`\(key)[\(i)]` must be an object.") }
            do {
                out.append(try item(CommandFields(o)))
            } catch {
                var r = error
                r.field = "\(key)[\(i)].\(r.field ?? "")"
                throw r
            }
        }
        return out
    }

    public func optionalBool(_ key: String) throws(InboundRejection) -> Bool? {
        switch self.present(key) {
        case nil: return nil
        case .bool(let b)?: return b
        default: throw Self.invalid(key, "`\(key)` must be true or false.")
        }
    }

    /// One of `allowed` (a string), or `nil` when absent.
    public func optionalChoice(_ key: String, _ allowed: [String]) throws(InboundRejection) -> String? {
        guard let s = try self.optionalString(key) else { return nil }
        guard allowed.contains(s) else { throw Self.invalid(key, "`\(key)` is one of \(allowed.joined(separator: ", ")).") }
        return s
    }
}
