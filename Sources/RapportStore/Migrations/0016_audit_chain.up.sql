-- Issue 13 (first step): a tamper-evident audit chain. Each row's hash covers the previous row's hash and
-- its own canonical form (AuditChain in RapportCore), so an edited, deleted or inserted row breaks the
-- chain at a sequence number `rapport audit verify` names. Ids and codes only: no personal data.
create table audit_log (
    seq        bigint primary key,
    at         text not null,          -- ISO 8601 UTC with milliseconds, as hashed
    actor      text not null,
    action     text not null,
    targets    text[] not null default '{}',
    detail     text not null default '',
    prev_hash  text not null,
    hash       text not null
);
create index audit_log_targets_idx on audit_log using gin (targets);

-- Rows are only ever added. A superuser can still drop the trigger; the chain then shows what changed.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only (% refused)', tg_op;
end $$;
create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_append_only();
