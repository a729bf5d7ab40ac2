-- Follow-up plans (what a rep means to do, and when) and records (what happened), on leads or customers.
create table followup_plans (
    id             bigserial primary key,
    lead_id        uuid,
    customer_id    uuid,
    rep_id         text not null references reps(id),
    kind           text not null check (kind in ('call', 'visit', 'message', 'email', 'meeting')),
    due_at         timestamptz not null,
    note           text,
    status         text not null default 'planned' check (status in ('planned', 'done', 'cancelled')),
    -- set once, in the transaction that enqueues the followup.due event: the reminder's exactly-once
    reminded_at    timestamptz,
    reminder_late  boolean,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    check (lead_id is not null or customer_id is not null)
);
create index followup_plans_due_idx on followup_plans (due_at) where status = 'planned' and reminded_at is null;
create index followup_plans_rep_idx on followup_plans (rep_id, due_at) where status = 'planned';

create table followup_records (
    id            bigserial primary key,
    plan_id       bigint references followup_plans(id),
    lead_id       uuid,
    customer_id   uuid,
    rep_id        text not null references reps(id),
    kind          text not null check (kind in ('call', 'visit', 'message', 'email', 'meeting')),
    happened_at   timestamptz not null,
    outcome       text not null,
    next_step     text,
    created_at    timestamptz not null default now(),
    check (lead_id is not null or customer_id is not null)
);
create index followup_records_lead_idx on followup_records (lead_id, happened_at);
create index followup_records_customer_idx on followup_records (customer_id, happened_at);

-- The recycle clock counts from here.
alter table leads add column last_followup_at timestamptz;
alter table customers add column last_followup_at timestamptz;
