-- The spine: inbound ledger, leads and their identities, customers, events outbox, dead letters.

create table customers (
    id          uuid primary key,
    name        text,
    phone       text,
    email       text,
    company     text,
    owner       text,
    created_at  timestamptz not null default now()
);

-- One row per identity key ('phone:+86…', 'email:…'); the primary key keeps a key on one customer.
create table customer_identities (
    key          text primary key,
    customer_id  uuid not null references customers(id) on delete cascade
);

create table leads (
    id            uuid primary key,
    name          text,
    phone         text,
    email         text,
    company       text,
    address       text,
    source        text not null,
    channel       text not null,
    utm           jsonb not null default '{}',
    fields        jsonb not null default '{}',
    customer_id   uuid references customers(id),
    status        text not null default 'new',
    touch_count   integer not null default 1,
    first_seen_at timestamptz not null,
    last_seen_at  timestamptz not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index leads_customer_idx on leads (customer_id) where customer_id is not null;

-- No foreign key to leads: checking one per inserted key cost more than the insert itself at
-- ingest rates; LeadStore writes keys and leads in the same transaction.
create table lead_identities (
    key      text primary key,
    lead_id  uuid not null
);
create index lead_identities_lead_idx on lead_identities (lead_id);

-- Idempotency and history in one: a (source, message_id) is processed once, and its row keeps the
-- submission whole (later values never overwrite earlier ones on the lead, so the history lives here).
create table inbound_ledger (
    source        text not null,
    message_id    text not null,
    channel       text not null,
    outcome       text not null,
    lead_id       uuid,
    customer_id   uuid,
    name          text,
    phone         text,
    email         text,
    company       text,
    address       text,
    message       text,
    utm           jsonb not null default '{}',
    fields        jsonb not null default '{}',
    submitted_at  timestamptz,
    received_at   timestamptz not null default now(),
    -- clock time at the end of the batch's writes, moments before commit (for latency figures)
    processed_at  timestamptz not null default clock_timestamp(),
    primary key (source, message_id)
);
create index inbound_ledger_lead_idx on inbound_ledger (lead_id);

-- Every submission that reached a lead.
create view lead_touches as
    select lead_id, source, message_id, channel, name, phone, email, company, address, message, utm, fields,
           submitted_at, received_at
    from inbound_ledger where lead_id is not null;

-- Transactional outbox: events commit with the change and are published after commit.
create table outbox (
    id            bigserial primary key,
    message_id    text not null,
    routing_key   text not null,
    payload       jsonb not null,
    created_at    timestamptz not null default now(),
    published_at  timestamptz
);
create index outbox_unpublished_idx on outbox (id) where published_at is null;

create table dead_letters (
    id                    bigserial primary key,
    dedupe_key            text not null unique,
    message_id            text,
    source                text,
    error_code            text not null,
    error                 text,
    original_exchange     text,
    original_routing_key  text,
    failed_at             timestamptz,
    attempts              integer,
    replayed_from         bigint,
    headers               jsonb not null default '{}',
    properties            jsonb not null default '{}',
    body                  bytea not null,
    archived_at           timestamptz not null default now(),
    status                text not null default 'dead' check (status in ('dead', 'replayed', 'purged')),
    replay_count          integer not null default 0,
    replayed_at           timestamptz,
    purged_at             timestamptz
);
create index dead_letters_code_idx on dead_letters (error_code, archived_at);
create index dead_letters_source_idx on dead_letters (source, archived_at);

create table dead_letter_audit (
    id              bigserial primary key,
    dead_letter_id  bigint not null references dead_letters(id),
    action          text not null,
    actor           text not null,
    detail          text,
    at              timestamptz not null default now()
);
