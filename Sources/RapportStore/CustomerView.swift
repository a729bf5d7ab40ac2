import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// The 360° view of a customer, read in one statement (so one snapshot): the customer (tags, level, place),
/// its contacts and addresses, custom fields with their labels, every field change, its identities,
/// its leads (contacts) and every inbound message they came with, owner and pool history, follow-up
/// plans and records, merges of its leads, and the pipeline: opportunities with their stage history and
/// quotes (with lines), orders, contracts with their payment plans.
public enum CustomerView {
    static let sql = """
        with c as (select * from customers where id = $1::uuid),
             l as (select * from leads where customer_id = $1::uuid)
        select jsonb_build_object(
            'customer', (select to_jsonb(c) - 'search_text' - 'search_tokens' from c),
            'contacts', coalesce((select jsonb_agg(to_jsonb(t) - 'customer_id' order by t.position) from customer_contacts t
                where t.customer_id = $1::uuid), '[]'),
            'addresses', coalesce((select jsonb_agg(to_jsonb(a) - 'customer_id' order by a.position) from customer_addresses a
                where a.customer_id = $1::uuid), '[]'),
            'custom_fields', coalesce((select jsonb_agg(jsonb_build_object('key', d.key, 'label', d.label, 'kind', d.kind,
                    'value', (select custom -> d.key from c)) order by d.key) from custom_field_definitions d where d.entity = 'customer'), '[]'),
            'history', coalesce((select jsonb_agg(jsonb_build_object('version', h.version, 'field', h.field, 'old', h.old_value,
                    'new', h.new_value, 'actor', h.actor, 'at', h.at) order by h.id) from customer_history h where h.customer_id = $1::uuid), '[]'),
            'customer_merges', coalesce((select jsonb_agg(to_jsonb(m) - 'moved' order by m.id) from customer_merges m
                where m.winner_id = $1::uuid or m.loser_id = $1::uuid), '[]'),
            'identities', coalesce((select jsonb_agg(key order by key) from customer_identities where customer_id = $1::uuid), '[]'),
            'leads', coalesce((select jsonb_agg(jsonb_build_object(
                    'id', l.id, 'name', l.name, 'phone', l.phone, 'email', l.email, 'company', l.company, 'source', l.source,
                    'channel', l.channel, 'owner', l.owner, 'status', l.status, 'touch_count', l.touch_count,
                    'first_seen_at', l.first_seen_at, 'last_seen_at', l.last_seen_at) order by l.first_seen_at) from l), '[]'),
            'touches', coalesce((select jsonb_agg(jsonb_build_object(
                    'source', g.source, 'message_id', g.message_id, 'channel', g.channel, 'outcome', g.outcome,
                    'lead_id', g.lead_id, 'received_at', g.received_at, 'message', g.message, 'utm', g.utm,
                    'score', g.score, 'sealed', encode(g.sealed, 'hex'), 'sealed_key', g.sealed_key) order by g.received_at)
                from inbound_ledger g where g.lead_id in (select id from l)), '[]'),
            'ownership', coalesce((select jsonb_agg(jsonb_build_object(
                    'action', o.action, 'rep_id', o.rep_id, 'pool_id', o.pool_id, 'actor', o.actor, 'reason', o.reason, 'at', o.at)
                    order by o.at, o.id) from customer_ownership o where o.customer_id = $1::uuid), '[]'),
            'lead_ownership', coalesce((select jsonb_agg(jsonb_build_object(
                    'lead_id', o.lead_id, 'action', o.action, 'rep_id', o.rep_id, 'actor', o.actor, 'reason', o.reason, 'at', o.at)
                    order by o.at, o.id) from lead_ownership o where o.lead_id in (select id from l)), '[]'),
            'followup_plans', coalesce((select jsonb_agg(jsonb_build_object(
                    'id', p.id, 'lead_id', p.lead_id, 'rep_id', p.rep_id, 'kind', p.kind, 'due_at', p.due_at, 'note', p.note,
                    'status', p.status, 'reminded_at', p.reminded_at, 'late', p.reminder_late) order by p.due_at)
                from followup_plans p where p.customer_id = $1::uuid or p.lead_id in (select id from l)), '[]'),
            'followup_records', coalesce((select jsonb_agg(jsonb_build_object(
                    'id', r.id, 'plan_id', r.plan_id, 'lead_id', r.lead_id, 'rep_id', r.rep_id, 'kind', r.kind,
                    'happened_at', r.happened_at, 'outcome', r.outcome, 'next_step', r.next_step) order by r.happened_at)
                from followup_records r where r.customer_id = $1::uuid or r.lead_id in (select id from l)), '[]'),
            'merges', coalesce((select jsonb_agg(jsonb_build_object(
                    'id', m.id, 'winner_lead_id', m.winner_lead_id, 'loser_lead_id', m.loser_lead_id, 'actor', m.actor,
                    'reason', m.reason, 'merged_at', m.merged_at, 'unmerged_at', m.unmerged_at) order by m.id)
                from lead_merges m where m.winner_lead_id in (select id from l) or m.loser_lead_id in (select id from l)), '[]'),
            'opportunities', coalesce((select jsonb_agg(to_jsonb(o) || jsonb_build_object(
                    'stages', (select jsonb_agg(jsonb_build_object('from', h.from_stage, 'to', h.to_stage, 'amount', h.amount,
                                                                   'probability', h.probability, 'actor', h.actor, 'at', h.at) order by h.at, h.id)
                               from opportunity_stage_history h where h.opportunity_id = o.id),
                    'quotes', (select jsonb_agg(to_jsonb(q) || jsonb_build_object(
                                   'lines', (select jsonb_agg(to_jsonb(ql) - 'quote_id' order by ql.line_no) from quote_lines ql where ql.quote_id = q.id))
                               order by q.created_at) from quotes q where q.opportunity_id = o.id)) order by o.created_at)
                from opportunities o where o.customer_id = $1::uuid), '[]'),
            'orders', coalesce((select jsonb_agg(to_jsonb(r) order by r.ordered_at) from orders r where r.customer_id = $1::uuid), '[]'),
            'contracts', coalesce((select jsonb_agg(to_jsonb(k) || jsonb_build_object(
                    'payments', (select jsonb_agg(to_jsonb(p) - 'contract_id' order by p.seq) from contract_payments p where p.contract_id = k.id))
                    order by k.signed_at) from contracts k where k.customer_id = $1::uuid), '[]'),
            'not_yet_built', jsonb_build_array('tickets', 'campaign_touches')
        )::text as view
        where exists (select 1 from c)
        """

    /// The view as JSON; `nil` when there is no such customer.
    /// Sealed touches are opened with `keyring`; without it (or once erased) their message stays empty.
    public static func show(_ customer: UUID, db: PGConnection, keyring: Keyring? = nil) throws -> JSONValue? {
        guard let text = try db.query(Self.sql, [customer.uuidString.lowercased()]).first?["view"] else { return nil }
        guard case .object(var view) = try JSONValue.parse(Array(text.utf8)) else { return nil }
        if let touches = view["touches"]?.arrayValue {
            var ids = Set<UUID>()
            for t in touches { if let k = t.objectValue?["sealed_key"]?.stringValue.flatMap(UUID.init(uuidString:)) { ids.insert(k) } }
            let keys = try keyring.map { try $0.dataKeys(ids, create: false, db: db) } ?? [:]
            view["touches"] = .array(try touches.map { t in
                guard case .object(var o) = t else { return t }
                let sealed = o.removeValue(forKey: "sealed")?.stringValue.flatMap(Hex.decode)
                let keyID = o.removeValue(forKey: "sealed_key")?.stringValue.flatMap(UUID.init(uuidString:))
                if let sealed, let keyID, let keyring, let key = keys[keyID],
                   let source = o["source"]?.stringValue, let message = o["message_id"]?.stringValue {
                    let plain = try keyring.open(sealed, key: key, table: LedgerSeal.table, column: LedgerSeal.column,
                                                 row: LedgerSeal.row(source: source, messageID: message), keyID: keyID)
                    o["message"] = try JSONValue.parse(plain).objectValue?["message"] ?? .null
                }
                return .object(o)
            })
        }
        return .object(view)
    }
}
