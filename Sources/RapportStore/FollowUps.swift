import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Follow-up plans and records on leads and customers.
public struct FollowUps: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    static func columns(_ s: FollowUpSubject) -> (lead: String?, customer: String?) {
        switch s {
        case .lead(let id): (id.uuidString.lowercased(), nil)
        case .customer(let id): (nil, id.uuidString.lowercased())
        }
    }

    private func requireSubject(_ s: FollowUpSubject) throws {
        let (lead, customer) = Self.columns(s)
        let found = try self.db.query(
            lead != nil ? "select 1 from leads where id = $1::uuid" : "select 1 from customers where id = $1::uuid", [lead ?? customer])
        if found.isEmpty { throw SalesError(.notFound, "no \(lead != nil ? "lead" : "customer") \(lead ?? customer ?? "")") }
    }

    /// Plans a follow-up; the scheduler reminds `rep` when it falls due.
    public func plan(_ subject: FollowUpSubject, rep: String, kind: FollowUpKind, dueAt: Date, note: String?, actor: String) throws -> Int64 {
        try self.db.transaction {
            try self.requireSubject(subject)
            guard try !self.db.query("select 1 from reps where id = $1", [rep]).isEmpty else { throw SalesError(.notFound, "no rep \(rep)") }
            let (lead, customer) = Self.columns(subject)
            let id: Int64 = try self.db.query(
                """
                insert into followup_plans (lead_id, customer_id, rep_id, kind, due_at, note)
                values ($1::uuid, $2::uuid, $3, $4, $5::timestamptz, $6) returning id
                """, [lead, customer, rep, kind.rawValue, ISO8601.string(dueAt), note]).first!.decode("id")
            try LeadPool(db: self.db).event("followup.planned", id: "followup.planned:\(id)", [
                "plan_id": .number(Double(id)), "lead_id": lead.map { .string($0) } ?? .null,
                "customer_id": customer.map { .string($0) } ?? .null, "rep_id": .string(rep), "kind": .string(kind.rawValue),
                "due_at": .string(ISO8601.string(dueAt)), "actor": .string(actor)])
            return id
        }
    }

    /// Records what happened; closes `plan` (if given) and plans the next step (if `nextDueAt` is given).
    /// The subject's recycle clock (`last_followup_at`) moves to `happenedAt`.
    public func record(_ subject: FollowUpSubject, rep: String, kind: FollowUpKind, happenedAt: Date, outcome: String,
                       nextStep: String?, plan: Int64?, nextDueAt: Date?, actor: String) throws -> (record: Int64, nextPlan: Int64?) {
        try self.db.transaction {
            try self.requireSubject(subject)
            let (lead, customer) = Self.columns(subject)
            if let plan {
                let closed = try self.db.query(
                    """
                    update followup_plans set status = 'done', updated_at = now()
                    where id = $1 and status = 'planned' and lead_id is not distinct from $2::uuid
                      and customer_id is not distinct from $3::uuid
                    returning 1
                    """, [plan, lead, customer])
                if closed.isEmpty { throw SalesError(.notFound, "no open follow-up plan \(plan) for this \(lead != nil ? "lead" : "customer")") }
            }
            let id: Int64 = try self.db.query(
                """
                insert into followup_records (plan_id, lead_id, customer_id, rep_id, kind, happened_at, outcome, next_step)
                values ($1, $2::uuid, $3::uuid, $4, $5, $6::timestamptz, $7, $8) returning id
                """, [plan, lead, customer, rep, kind.rawValue, ISO8601.string(happenedAt), outcome, nextStep]).first!.decode("id")
            try self.db.query(
                lead != nil
                    ? "update leads set last_followup_at = greatest(last_followup_at, $2::timestamptz) where id = $1::uuid"
                    : "update customers set last_followup_at = greatest(last_followup_at, $2::timestamptz) where id = $1::uuid",
                [lead ?? customer, ISO8601.string(happenedAt)])
            try LeadPool(db: self.db).event("followup.recorded", id: "followup.recorded:\(id)", [
                "record_id": .number(Double(id)), "plan_id": plan.map { .number(Double($0)) } ?? .null,
                "lead_id": lead.map { .string($0) } ?? .null, "customer_id": customer.map { .string($0) } ?? .null,
                "rep_id": .string(rep), "kind": .string(kind.rawValue), "outcome": .string(outcome), "actor": .string(actor)])
            let next = try nextDueAt.map {
                try self.plan(subject, rep: rep, kind: kind, dueAt: $0, note: nextStep, actor: actor)
            }
            return (id, next)
        }
    }

    public func cancel(_ plan: Int64, actor: String) throws {
        try self.db.transaction {
            let rows = try self.db.query(
                "update followup_plans set status = 'cancelled', updated_at = now() where id = $1 and status = 'planned' returning rep_id", [plan])
            guard let r = rows.first else { throw SalesError(.notFound, "no open follow-up plan \(plan)") }
            try LeadPool(db: self.db).event("followup.cancelled", id: "followup.cancelled:\(plan)", [
                "plan_id": .number(Double(plan)), "rep_id": .string(r["rep_id"] ?? ""), "actor": .string(actor)])
        }
    }

    public struct Overdue: Sendable, Hashable {
        public var plan: Int64
        public var rep: String
        public var kind: String
        public var dueAt: Date
        public var lead: UUID?
        public var customer: UUID?
        public var note: String?
    }

    /// Open plans past their due time, by rep then due time.
    public func overdue(rep: String? = nil, now: Date = Date(), limit: Int = 1000) throws -> [Overdue] {
        try self.db.query(
            """
            select id, rep_id, kind, due_at, lead_id, customer_id, note from followup_plans
            where status = 'planned' and due_at < $1::timestamptz and ($2::text is null or rep_id = $2)
            order by rep_id, due_at limit $3
            """, [ISO8601.string(now), rep, limit]).map {
                Overdue(plan: try $0.decode("id"), rep: try $0.decode("rep_id"), kind: try $0.decode("kind"),
                        dueAt: try $0.decode("due_at"), lead: try $0.decodeIfPresent("lead_id"),
                        customer: try $0.decodeIfPresent("customer_id"), note: $0["note"])
            }
    }

    /// Reminds up to `limit` due plans as of `now`, each once (`for update skip locked`), writing one
    /// `followup.due` event per plan to the outbox in the same transaction.
    ///
    /// - Returns: how many were reminded, and how many of them were more than `lateAfter` seconds late.
    public func remindDue(now: Date, lateAfter: TimeInterval, limit: Int) throws -> (fired: Int, late: Int) {
        let db = self.db
        return try db.transaction {
            let due = try db.query(
                """
                with due as (
                    select id from followup_plans
                    where status = 'planned' and reminded_at is null and due_at <= $1::timestamptz
                    order by due_at limit $2 for update skip locked)
                update followup_plans p set reminded_at = $1::timestamptz,
                       reminder_late = $1::timestamptz - p.due_at > make_interval(secs => $3)
                from due where p.id = due.id
                returning p.id, p.lead_id::text as lead_id, p.customer_id::text as customer_id, p.rep_id, p.kind,
                          p.due_at, p.note, p.reminder_late
                """, [ISO8601.string(now), limit, lateAfter])
            guard !due.isEmpty else { return (0, 0) }
            var rows: [JSONValue] = []
            for r in due {
                let dueAt: Date = try r.decode("due_at")
                let id: Int64 = try r.decode("id")
                rows.append(.object([
                    "message_id": .string("followup.due:\(id)"), "routing_key": .string("followup.due"),
                    "payload": .object([
                        "event": .string("followup.due"), "plan_id": .number(Double(id)), "rep_id": .string(r["rep_id"] ?? ""),
                        "lead_id": r["lead_id"].map { .string($0) } ?? .null, "customer_id": r["customer_id"].map { .string($0) } ?? .null,
                        "kind": .string(r["kind"] ?? ""), "note": r["note"].map { .string($0) } ?? .null,
                        "due_at": .string(ISO8601.string(dueAt)), "reminded_at": .string(ISO8601.string(now)),
                        "late": .bool(r["reminder_late"] == "t"),
                        "lateness_seconds": .number((now.timeIntervalSince(dueAt) * 1000).rounded() / 1000),
                        "occurred_at": .string(ISO8601.string(now)),
                    ]),
                ]))
            }
            try Outbox.enqueue(rows: JSONValue.array(rows).jsonString, on: db)
            return (due.count, due.filter { $0["reminder_late"] == "t" }.count)
        }
    }

    /// When the next open plan falls due, if any.
    public func nextDue() throws -> Date? {
        try self.db.query("select min(due_at) as d from followup_plans where status = 'planned' and reminded_at is null")
            .first?.decodeIfPresent("d")
    }
}
