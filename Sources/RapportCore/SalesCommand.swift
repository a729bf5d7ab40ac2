import Foundation

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
            guard let s = v.stringValue, let d = CommandEnvelope.parseTime(s) else {
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

extension CommandEnvelope {
    /// ISO 8601 with an offset, with or without fractional seconds.
    public static func parseTime(_ s: String) -> Date? {
        (try? Date(s, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(s, strategy: Date.ISO8601FormatStyle()))
    }
}

/// What a follow-up is about.
public enum FollowUpSubject: Sendable, Hashable {
    case lead(UUID)
    case customer(UUID)
}

/// How a rep follows up.
public enum FollowUpKind: String, Sendable, Hashable, CaseIterable {
    case call, visit, message, email, meeting
}

/// A command of the sales front end on `rapport.commands`: reps and teams, the lead pool, follow-ups.
public enum SalesCommand: Sendable, Hashable {
    case upsertRep(id: String, name: String?, team: String?, active: Bool?, capacity: Int?)
    case upsertTeam(id: String, name: String, assignment: AssignmentPolicy)
    case claim(rep: String, count: Int, pool: String)
    case giveBack(rep: String, leads: [UUID], reason: String)
    case assign(team: String, count: Int?, leads: [UUID]?, pool: String)
    case planFollowUp(subject: FollowUpSubject, rep: String, kind: FollowUpKind, dueAt: Date, note: String?)
    /// What happened; closes `plan` if given, and plans the next step if `nextDueAt` is given.
    case recordFollowUp(subject: FollowUpSubject, rep: String, kind: FollowUpKind, happenedAt: Date?, outcome: String,
                        nextStep: String?, plan: Int64?, nextDueAt: Date?)
    case cancelFollowUp(plan: Int64)
    case overdue(rep: String?)
    case convertLead(lead: UUID, level: String)
    case returnCustomers(rep: String, customers: [UUID], reason: String, pool: String)
    case addToPublicPool(customers: [UUID], pool: String, reason: String?)
    case claimCustomers(rep: String, count: Int, pool: String)
    case showCustomer(UUID)
    case createOpportunity(customer: UUID, name: String, owner: String?, stage: String, amount: Decimal, currency: String, expectedClose: String?)
    case moveOpportunity(UUID, stage: String, amount: Decimal?)
    case createQuote(opportunity: UUID, lines: [QuoteLine], discount: Decimal, taxRate: Decimal, validUntil: String?)
    case acceptQuote(UUID)
    case createContract(order: UUID, number: String, startsOn: String, endsOn: String, payments: [Installment])

    public static let routingKeys = ["rep.upsert", "team.upsert", "lead.claim", "lead.return", "lead.assign",
                                     "followup.plan", "followup.record", "followup.cancel", "followup.overdue",
                                     "customer.convert", "customer.return", "customer.add_to_pool", "customer.claim", "customer.show",
                                     "opportunity.create", "opportunity.stage", "quote.create", "quote.accept", "contract.create"]

    public var name: String {
        switch self {
        case .upsertRep: "rep.upsert"
        case .upsertTeam: "team.upsert"
        case .claim: "lead.claim"
        case .giveBack: "lead.return"
        case .assign: "lead.assign"
        case .planFollowUp: "followup.plan"
        case .recordFollowUp: "followup.record"
        case .cancelFollowUp: "followup.cancel"
        case .overdue: "followup.overdue"
        case .convertLead: "customer.convert"
        case .returnCustomers: "customer.return"
        case .addToPublicPool: "customer.add_to_pool"
        case .claimCustomers: "customer.claim"
        case .showCustomer: "customer.show"
        case .createOpportunity: "opportunity.create"
        case .moveOpportunity: "opportunity.stage"
        case .createQuote: "quote.create"
        case .acceptQuote: "quote.accept"
        case .createContract: "contract.create"
        }
    }

    public static func decode(_ e: InboundEnvelope) -> Result<(SalesCommand, actor: String), InboundRejection> {
        CommandEnvelope.parse(e).flatMap { body, actor in
            let f = CommandEnvelope.Fields(body)
            let command: Result<SalesCommand, InboundRejection>
            switch e.routingKey {
            case "rep.upsert":
                command = f.string("rep_id").flatMap { id in f.optionalString("name").flatMap { name in
                    f.optionalString("team_id").flatMap { team in f.optionalBool("active").flatMap { active in
                        f.integer("capacity", required: false, minimum: 0).map { cap in
                            .upsertRep(id: id, name: name, team: team, active: active, capacity: cap.map { Int($0) })
                        } } } } }
            case "team.upsert":
                command = f.string("team_id").flatMap { id in f.string("name").flatMap { name in
                    f.optionalString("assignment").flatMap { a in
                        guard let policy = AssignmentPolicy(rawValue: a ?? "round_robin") else {
                            return .failure(.init(code: .invalidField, reason: "`assignment` is round_robin or least_loaded.", field: "assignment"))
                        }
                        return .success(.upsertTeam(id: id, name: name, assignment: policy))
                    } } }
            case "lead.claim":
                command = f.string("rep_id").flatMap { rep in f.integer("count").flatMap { n in
                    f.optionalString("pool").map { .claim(rep: rep, count: Int(n!), pool: $0 ?? "default") } } }
            case "lead.return":
                command = f.string("rep_id").flatMap { rep in f.uuids("lead_ids").flatMap { ids in
                    f.string("reason").map { .giveBack(rep: rep, leads: ids, reason: $0) } } }
            case "lead.assign":
                command = f.string("team_id").flatMap { team in f.integer("count", required: false).flatMap { n in
                    f.optionalString("pool").flatMap { pool in
                        let leads: Result<[UUID]?, InboundRejection> = body["lead_ids"] == nil ? .success(nil) : f.uuids("lead_ids").map { $0 }
                        return leads.flatMap { ids in
                            n == nil && ids == nil
                                ? .failure(.init(code: .invalidField, reason: "Give `count` or `lead_ids`.", field: "count"))
                                : .success(.assign(team: team, count: n.map { Int($0) }, leads: ids, pool: pool ?? "default"))
                        }
                    } } }
            case "followup.plan":
                command = f.subject().flatMap { subject in f.string("rep_id").flatMap { rep in Self.kind(f).flatMap { kind in
                    f.date("due_at").flatMap { due in f.optionalString("note").map { note in
                        .planFollowUp(subject: subject, rep: rep, kind: kind, dueAt: due!, note: note)
                    } } } } }
            case "followup.record":
                command = f.subject().flatMap { subject in f.string("rep_id").flatMap { rep in Self.kind(f).flatMap { kind in
                    f.date("happened_at", required: false).flatMap { at in f.string("outcome").flatMap { outcome in
                        f.optionalString("next_step").flatMap { next in f.integer("plan_id", required: false).flatMap { plan in
                            f.date("next_due_at", required: false).map { nextDue in
                                .recordFollowUp(subject: subject, rep: rep, kind: kind, happenedAt: at, outcome: outcome,
                                                nextStep: next, plan: plan, nextDueAt: nextDue)
                            } } } } } } } }
            case "followup.cancel":
                command = f.integer("plan_id").map { .cancelFollowUp(plan: $0!) }
            case "followup.overdue":
                command = f.optionalString("rep_id").map { .overdue(rep: $0) }
            case "customer.convert":
                command = f.uuid("lead_id").flatMap { lead in f.optionalString("level").map { .convertLead(lead: lead, level: $0 ?? "C") } }
            case "customer.return":
                command = f.string("rep_id").flatMap { rep in f.uuids("customer_ids").flatMap { ids in f.string("reason").flatMap { reason in
                    f.optionalString("pool").map { .returnCustomers(rep: rep, customers: ids, reason: reason, pool: $0 ?? "public") } } } }
            case "customer.add_to_pool":
                command = f.uuids("customer_ids").flatMap { ids in f.optionalString("pool").flatMap { pool in
                    f.optionalString("reason").map { .addToPublicPool(customers: ids, pool: pool ?? "public", reason: $0) } } }
            case "customer.claim":
                command = f.string("rep_id").flatMap { rep in f.integer("count").flatMap { n in
                    f.optionalString("pool").map { .claimCustomers(rep: rep, count: Int(n!), pool: $0 ?? "public") } } }
            case "customer.show":
                command = f.uuid("customer_id").map { .showCustomer($0) }
            case "opportunity.create":
                command = f.uuid("customer_id").flatMap { c in f.string("name").flatMap { name in f.optionalString("owner").flatMap { owner in
                    f.optionalString("stage").flatMap { stage in f.decimal("amount").flatMap { amount in f.optionalString("currency").flatMap { cur in
                        f.day("expected_close", required: false).map { close in
                            .createOpportunity(customer: c, name: name, owner: owner, stage: stage ?? "qualify", amount: amount!,
                                               currency: cur ?? "CNY", expectedClose: close)
                        } } } } } } }
            case "opportunity.stage":
                command = f.uuid("opportunity_id").flatMap { id in f.string("stage").flatMap { stage in
                    f.decimal("amount", required: false).map { .moveOpportunity(id, stage: stage, amount: $0) } } }
            case "quote.create":
                let lines = f.objects("lines") { l in
                    l.string("product").flatMap { p in l.decimal("quantity").flatMap { q in l.decimal("unit_price").flatMap { u in
                        l.decimal("discount_pct", required: false).map { d in
                            QuoteLine(product: p, quantity: q!, unitPrice: u!, discountPercent: d ?? 0) } } } }
                }
                command = f.uuid("opportunity_id").flatMap { opp in lines.flatMap { lines in f.decimal("discount", required: false).flatMap { disc in
                    f.decimal("tax_rate", required: false).flatMap { tax in f.day("valid_until", required: false).map { until in
                        .createQuote(opportunity: opp, lines: lines, discount: disc ?? 0, taxRate: tax ?? 0, validUntil: until)
                    } } } } }
            case "quote.accept":
                command = f.uuid("quote_id").map { .acceptQuote($0) }
            case "contract.create":
                let payments = f.objects("payments") { p in
                    p.day("due_on").flatMap { d in p.decimal("amount").map { Installment(dueOn: d!, amount: $0!) } }
                }
                command = f.uuid("order_id").flatMap { order in f.string("number").flatMap { number in f.day("starts_on").flatMap { start in
                    f.day("ends_on").flatMap { end in payments.map { plan in
                        .createContract(order: order, number: number, startsOn: start!, endsOn: end!, payments: plan)
                    } } } } }
            default:
                command = .failure(.init(code: .unknownRoutingKey, reason: "No sales command is routed on \(e.routingKey).", field: "routing_key"))
            }
            return command.map { ($0, actor) }
        }
    }

    static func kind(_ f: CommandEnvelope.Fields) -> Result<FollowUpKind, InboundRejection> {
        f.string("kind").flatMap { k in
            FollowUpKind(rawValue: k).map { .success($0) }
                ?? .failure(.init(code: .invalidField, reason: "`kind` is one of \(FollowUpKind.allCases.map(\.rawValue).joined(separator: ", ")).", field: "kind"))
        }
    }
}
