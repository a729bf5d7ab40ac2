import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// Opportunity → quote → order → contract. Stage changes are kept with their time, amount and win
/// probability; a won opportunity or a signed contract is a deal for the recycle rules.
public struct Pipeline: Sendable {
    public let db: PGConnection

    public init(db: PGConnection) { self.db = db }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }

    public func createOpportunity(customer: UUID, name: String, owner: String? = nil, stage: String = "qualify", amount: Decimal,
                                  currency: String = "CNY", expectedClose: String? = nil, actor: String) throws -> UUID {
        if let d = expectedClose, !CivilCalendar.isValidISODate(d) { throw SalesError(.invalid, "expected_close is yyyy-mm-dd") }
        guard amount >= 0 else { throw SalesError(.invalid, "amount must not be negative") }
        return try self.db.transaction {
            guard let c = try self.db.query("select owner from customers where id = $1::uuid", [Self.text(customer)]).first else {
                throw SalesError(.notFound, "no customer \(Self.text(customer))")
            }
            let p = try self.stage(stage)
            guard p.outcome == nil else { throw SalesError(.invalid, "a new opportunity starts in an open stage, not \(stage)") }
            let id = UUID()
            try self.db.query(
                """
                insert into opportunities (id, customer_id, name, owner, stage, amount, currency, expected_close)
                values ($1::uuid, $2::uuid, $3, $4, $5, $6::numeric, $7, $8::date)
                """, [Self.text(id), Self.text(customer), name, owner ?? c["owner"], stage, Money.text(amount), currency, expectedClose])
            try self.history(id, from: nil, to: stage, amount: amount, probability: p.probability, actor: actor)
            try LeadPool(db: self.db).event("opportunity.created", id: "opportunity.created:\(Self.text(id))", [
                "opportunity_id": .string(Self.text(id)), "customer_id": .string(Self.text(customer)), "stage": .string(stage),
                "amount": .string(Money.text(amount)), "currency": .string(currency), "actor": .string(actor)])
            return id
        }
    }

    /// Moves an open opportunity to another stage (optionally with a new amount); `won`/`lost` close it.
    public func moveStage(_ opportunity: UUID, to stage: String, amount: Decimal? = nil, actor: String, now: Date = Date()) throws {
        try self.db.transaction {
            guard let o = try self.db.query(
                "select stage, amount::text as amount, status, customer_id::text as customer from opportunities where id = $1::uuid for update",
                [Self.text(opportunity)]).first else { throw SalesError(.notFound, "no opportunity \(Self.text(opportunity))") }
            guard o["status"] == "open" else { throw SalesError(.invalid, "opportunity is \(o["status"] ?? "closed"); it cannot move") }
            let p = try self.stage(stage)
            let newAmount = amount ?? Money.parse(o["amount"] ?? "0") ?? 0
            if p.outcome == "won" && newAmount <= 0 { throw SalesError(.invalid, "a won opportunity needs an amount") }
            try self.db.query(
                """
                update opportunities set stage = $2, amount = $3::numeric, status = coalesce($4, 'open'),
                       closed_at = case when $4 is null then null else $5::timestamptz end, updated_at = now()
                where id = $1::uuid
                """, [Self.text(opportunity), stage, Money.text(newAmount), p.outcome, ISO8601.string(now)])
            try self.history(opportunity, from: o["stage"], to: stage, amount: newAmount, probability: p.probability, actor: actor, at: now)
            if p.outcome == "won" { try self.deal(customer: o["customer"]!, at: now) }
            try LeadPool(db: self.db).event("opportunity.stage_changed", id: "opportunity.stage_changed:\(UUID().uuidString.lowercased())", [
                "opportunity_id": .string(Self.text(opportunity)), "from": .string(o["stage"] ?? ""), "to": .string(stage),
                "amount": .string(Money.text(newAmount)), "probability": .string("\(p.probability)"), "actor": .string(actor)])
        }
    }

    public func createQuote(_ opportunity: UUID, lines: [QuoteLine], discount: Decimal = 0, taxRate: Decimal = 0,
                            validUntil: String? = nil, actor: String) throws -> (id: UUID, totals: QuoteTotals) {
        let totals: QuoteTotals
        do { totals = try QuoteTotals.compute(lines, discount: discount, taxRate: taxRate) } catch let e as PipelineRuleError {
            throw SalesError(.invalid, e.description)
        }
        if let d = validUntil, !CivilCalendar.isValidISODate(d) { throw SalesError(.invalid, "valid_until is yyyy-mm-dd") }
        return try self.db.transaction {
            guard let o = try self.db.query("select status, currency from opportunities where id = $1::uuid", [Self.text(opportunity)]).first else {
                throw SalesError(.notFound, "no opportunity \(Self.text(opportunity))")
            }
            guard o["status"] == "open" else { throw SalesError(.invalid, "opportunity is \(o["status"] ?? "closed")") }
            let id = UUID()
            try self.db.query(
                """
                insert into quotes (id, opportunity_id, currency, subtotal, discount, tax_rate, tax, total, valid_until)
                values ($1::uuid, $2::uuid, $3, $4::numeric, $5::numeric, $6::numeric, $7::numeric, $8::numeric, $9::date)
                """, [Self.text(id), Self.text(opportunity), o["currency"] ?? "CNY", Money.text(totals.subtotal), Money.text(totals.discount),
                      "\(taxRate)", Money.text(totals.tax), Money.text(totals.total), validUntil])
            try self.db.query(
                """
                insert into quote_lines (quote_id, line_no, product, quantity, unit_price, discount_pct, amount)
                select $1::uuid, n, p, q::numeric, u::numeric, d::numeric, a::numeric
                from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) with ordinality as x(p, q, u, d, a, n)
                """, [Self.text(id), lines.map(\.product), lines.map { "\($0.quantity)" }, lines.map { Money.text($0.unitPrice) },
                      lines.map { "\($0.discountPercent)" }, lines.map { Money.text($0.amount) }])
            try LeadPool(db: self.db).event("quote.created", id: "quote.created:\(Self.text(id))", [
                "quote_id": .string(Self.text(id)), "opportunity_id": .string(Self.text(opportunity)),
                "total": .string(Money.text(totals.total)), "actor": .string(actor)])
            return (id, totals)
        }
    }

    /// The customer accepts a quote: it becomes an order, and its opportunity is won at the quote's total.
    public func acceptQuote(_ quote: UUID, actor: String, now: Date = Date()) throws -> UUID {
        try self.db.transaction {
            guard let q = try self.db.query(
                """
                select q.status, q.total::text as total, q.currency, q.opportunity_id::text as opp, o.customer_id::text as customer, o.status as opp_status
                from quotes q join opportunities o on o.id = q.opportunity_id where q.id = $1::uuid for update of q
                """, [Self.text(quote)]).first else { throw SalesError(.notFound, "no quote \(Self.text(quote))") }
            guard q["status"] == "draft" || q["status"] == "sent" else { throw SalesError(.invalid, "quote is \(q["status"] ?? "")") }
            let order = UUID()
            try self.db.query("update quotes set status = 'accepted' where id = $1::uuid", [Self.text(quote)])
            try self.db.query(
                """
                insert into orders (id, quote_id, opportunity_id, customer_id, total, currency, ordered_at)
                values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::numeric, $6, $7::timestamptz)
                """, [Self.text(order), Self.text(quote), q["opp"], q["customer"], q["total"], q["currency"], ISO8601.string(now)])
            if q["opp_status"] == "open", let opp = q["opp"].flatMap(UUID.init(uuidString:)) {
                try self.moveStage(opp, to: "won", amount: Money.parse(q["total"] ?? "0"), actor: actor, now: now)
            }
            try LeadPool(db: self.db).event("order.created", id: "order.created:\(Self.text(order))", [
                "order_id": .string(Self.text(order)), "quote_id": .string(Self.text(quote)), "customer_id": .string(q["customer"] ?? ""),
                "total": .string(q["total"] ?? ""), "actor": .string(actor)])
            return order
        }
    }

    /// Signs the contract for an order: its dates, and a payment plan that adds up to the order's total.
    public func createContract(order: UUID, number: String, startsOn: String, endsOn: String, payments: [Installment],
                               actor: String, now: Date = Date()) throws -> UUID {
        try self.db.transaction {
            guard let o = try self.db.query(
                "select total::text as total, currency, customer_id::text as customer from orders where id = $1::uuid", [Self.text(order)]).first else {
                throw SalesError(.notFound, "no order \(Self.text(order))")
            }
            let amount = Money.parse(o["total"] ?? "0") ?? 0
            do { try PaymentPlan.validate(payments, amount: amount, startsOn: startsOn, endsOn: endsOn) } catch let e as PipelineRuleError {
                throw SalesError(.invalid, e.description)
            }
            let id = UUID()
            let inserted = try self.db.query(
                """
                insert into contracts (id, order_id, customer_id, number, starts_on, ends_on, amount, currency, signed_at)
                values ($1::uuid, $2::uuid, $3::uuid, $4, $5::date, $6::date, $7::numeric, $8, $9::timestamptz)
                on conflict do nothing returning 1
                """, [Self.text(id), Self.text(order), o["customer"], number, startsOn, endsOn, o["total"], o["currency"], ISO8601.string(now)])
            guard !inserted.isEmpty else { throw SalesError(.invalid, "the order already has a contract, or contract number \(number) is taken") }
            try self.db.query(
                """
                insert into contract_payments (contract_id, seq, due_on, amount)
                select $1::uuid, n, d::date, a::numeric from unnest($2::text[], $3::text[]) with ordinality as x(d, a, n)
                """, [Self.text(id), payments.map(\.dueOn), payments.map { Money.text($0.amount) }])
            try self.deal(customer: o["customer"]!, at: now)
            try LeadPool(db: self.db).event("contract.signed", id: "contract.signed:\(Self.text(id))", [
                "contract_id": .string(Self.text(id)), "order_id": .string(Self.text(order)), "number": .string(number),
                "amount": .string(o["total"] ?? ""), "customer_id": .string(o["customer"] ?? ""), "actor": .string(actor)])
            return id
        }
    }

    private func stage(_ id: String) throws -> (probability: Decimal, outcome: String?) {
        guard let s = try self.db.query("select win_probability::text as p, outcome from pipeline_stages where id = $1", [id]).first else {
            throw SalesError(.notFound, "no pipeline stage \(id)")
        }
        return (Money.parse(s["p"] ?? "0") ?? 0, s["outcome"])
    }

    private func history(_ opp: UUID, from: String?, to: String, amount: Decimal, probability: Decimal, actor: String, at: Date = Date()) throws {
        try self.db.query(
            """
            insert into opportunity_stage_history (opportunity_id, from_stage, to_stage, amount, probability, actor, at)
            values ($1::uuid, $2, $3, $4::numeric, $5::numeric, $6, $7::timestamptz)
            """, [Self.text(opp), from, to, Money.text(amount), "\(probability)", actor, ISO8601.string(at)])
    }

    private func deal(customer: String, at: Date) throws {
        try self.db.query("update customers set last_deal_at = greatest(last_deal_at, $2::timestamptz) where id = $1::uuid",
                          [customer, ISO8601.string(at)])
    }
}
