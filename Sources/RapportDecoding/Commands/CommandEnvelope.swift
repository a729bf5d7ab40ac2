import Foundation
import RapportCore
import RapportSupport

/// The checks every command message passes first: a message id (the idempotency key), JSON, a JSON
/// object body, and who asked (`actor` in the body, else the `app_id` property).
public enum CommandEnvelope {
    public static func parse(_ e: InboundEnvelope, maxBodyBytes: Int = 64 * 1024)
        -> Result<(body: [String: JSONValue], actor: String), InboundRejection> {
        guard let id = e.messageID, !id.allSatisfy({ $0 == " " }) else {
            return .failure(.init(code: .missingMessageID, reason: "Commands need a message_id property: it makes a redelivered command a no-op.", field: "message_id"))
        }
        guard e.contentType?.lowercased().hasPrefix("application/json") == true else {
            return .failure(.init(code: .wrongContentType, reason: "Commands are application/json, not \(e.contentType ?? "(none)").", field: "content_type"))
        }
        guard e.body.count <= maxBodyBytes else {
            return .failure(.init(code: .bodyTooLarge, reason: "Command body is \(e.body.count) bytes; the limit is \(maxBodyBytes)."))
        }
        guard let parsed = try? JSONValue.parse(e.body), let o = parsed.objectValue else {
            return .failure(.init(code: .invalidJSON, reason: "Command body is not a JSON object."))
        }
        let actor = (o["actor"]?.stringValue ?? e.appID).map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
        guard let actor, !actor.isEmpty else {
            return .failure(.init(code: .invalidField, reason: "Commands name who asked: an `actor` string (or the app_id property).", field: "actor"))
        }
        return .success((o, actor))
    }

    /// Field readers that name the field that failed.
    public struct Fields: Sendable {
        public let body: [String: JSONValue]
        public init(_ body: [String: JSONValue]) { self.body = body }

        public func string(_ key: String) -> Result<String, InboundRejection> {
            guard let s = self.body[key]?.stringValue, !s.isEmpty else {
                return .failure(.init(code: .invalidField, reason: "`\(key)` must be a non-empty string.", field: key))
            }
            return .success(s)
        }

        public func optionalString(_ key: String) -> Result<String?, InboundRejection> {
            switch self.body[key] {
            case nil, .null?: .success(nil)
            case .string(let s)?: .success(s)
            default: .failure(.init(code: .invalidField, reason: "`\(key)` must be a string.", field: key))
            }
        }

        public func uuid(_ key: String) -> Result<UUID, InboundRejection> {
            guard let s = self.body[key]?.stringValue, let u = UUID(uuidString: s) else {
                return .failure(.init(code: .invalidField, reason: "`\(key)` must be an id (UUID).", field: key))
            }
            return .success(u)
        }

        public func uuids(_ key: String) -> Result<[UUID], InboundRejection> {
            let bad = InboundRejection(code: .invalidField, reason: "`\(key)` must be a non-empty array of ids (UUIDs).", field: key)
            guard case .array(let items)? = self.body[key], !items.isEmpty else { return .failure(bad) }
            var out: [UUID] = []
            for item in items {
                guard let s = item.stringValue, let u = UUID(uuidString: s) else { return .failure(bad) }
                out.append(u)
            }
            return .success(out)
        }

        /// A positive integer (also as a string), or `nil` when absent and not `required`.
        public func integer(_ key: String, required: Bool = true, minimum: Int64 = 1) -> Result<Int64?, InboundRejection> {
            let bad = InboundRejection(code: .invalidField, reason: "`\(key)` must be an integer of at least \(minimum).", field: key)
            switch self.body[key] {
            case nil, .null?: return required ? .failure(bad) : .success(nil)
            case .number(let d)? where d >= Double(minimum) && d < 9e15 && d.rounded() == d: return .success(Int64(d))
            case .string(let s)?: return Int64(s).flatMap { $0 >= minimum ? $0 : nil }.map { .success($0) } ?? .failure(bad)
            default: return .failure(bad)
            }
        }

        /// An ISO 8601 time with an offset (`2026-11-25T09:30:00+08:00`), or `nil` when absent and not `required`.
        public func date(_ key: String, required: Bool = true) -> Result<Date?, InboundRejection> {
            guard let v = self.body[key], v != .null else {
                return required ? .failure(.init(code: .invalidField, reason: "`\(key)` is required (ISO 8601 time).", field: key)) : .success(nil)
            }
            guard let s = v.stringValue, let d = ISO8601.date(s) else {
                return .failure(.init(code: .invalidField, reason: "`\(key)` must be an ISO 8601 time with an offset.", field: key))
            }
            return .success(d)
        }

        /// What a follow-up is about: `lead_id` or `customer_id`.
        public func subject() -> Result<FollowUpSubject, InboundRejection> {
            if self.body["lead_id"] != nil { return self.uuid("lead_id").map { .lead($0) } }
            if self.body["customer_id"] != nil { return self.uuid("customer_id").map { .customer($0) } }
            return .failure(.init(code: .invalidField, reason: "Give `lead_id` or `customer_id`.", field: "lead_id"))
        }

        /// A decimal (JSON number or numeric string); `nil` when absent and not `required`.
        public func decimal(_ key: String, required: Bool = true) -> Result<Decimal?, InboundRejection> {
            let bad = InboundRejection(code: .invalidField, reason: "`\(key)` must be a decimal number.", field: key)
            switch self.body[key] {
            case nil, .null?: return required ? .failure(bad) : .success(nil)
            case .number(let d)? where d.isFinite: return Money.parse(String(d)).map { .success($0) } ?? .failure(bad)
            case .string(let t)?: return Money.parse(t).map { .success($0) } ?? .failure(bad)
            default: return .failure(bad)
            }
        }

        /// A `yyyy-mm-dd` date; `nil` when absent and not `required`.
        public func day(_ key: String, required: Bool = true) -> Result<String?, InboundRejection> {
            switch self.body[key] {
            case nil, .null?:
                return required ? .failure(.init(code: .invalidField, reason: "`\(key)` is required (yyyy-mm-dd).", field: key)) : .success(nil)
            case .string(let t)? where CivilCalendar.isValidISODate(t): return .success(t)
            default: return .failure(.init(code: .invalidField, reason: "`\(key)` must be a date, yyyy-mm-dd.", field: key))
            }
        }

        /// An array of objects, each read with `item` (its field names prefixed `key[i].` on failure).
        public func objects<T>(_ key: String, _ item: (Fields) -> Result<T, InboundRejection>) -> Result<[T], InboundRejection> {
            guard case .array(let items)? = self.body[key], !items.isEmpty else {
                return .failure(.init(code: .invalidField, reason: "`\(key)` must be a non-empty array.", field: key))
            }
            var out: [T] = []
            for (i, v) in items.enumerated() {
                guard let o = v.objectValue else { return .failure(.init(code: .invalidField, reason: "`\(key)[\(i)]` must be an object.", field: "\(key)[\(i)]")) }
                switch item(Fields(o)) {
                case .success(let t): out.append(t)
                case .failure(var r):
                    r.field = "\(key)[\(i)].\(r.field ?? "")"
                    return .failure(r)
                }
            }
            return .success(out)
        }

        public func optionalBool(_ key: String) -> Result<Bool?, InboundRejection> {
            switch self.body[key] {
            case nil, .null?: .success(nil)
            case .bool(let b)?: .success(b)
            default: .failure(.init(code: .invalidField, reason: "`\(key)` must be true or false.", field: key))
            }
        }
    }
}

