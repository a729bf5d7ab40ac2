-- The pipeline: opportunity (stages with win probabilities) → quote (lines, totals) → order → contract
-- (dates, amount, payment plan). Money is numeric(14,2) in the currency of the record.
create table pipeline_stages (
    id               text primary key,
    name             text not null,
    position         integer not null,
    win_probability  numeric(4,3) not null check (win_probability between 0 and 1),
    outcome          text check (outcome in ('won', 'lost'))
);
insert into pipeline_stages (id, name, position, win_probability, outcome) values
    ('qualify', '初步接洽', 1, 0.10, null),
    ('needs', '需求确认', 2, 0.25, null),
    ('proposal', '方案报价', 3, 0.50, null),
    ('negotiation', '商务谈判', 4, 0.75, null),
    ('won', '赢单', 5, 1.00, 'won'),
    ('lost', '输单', 6, 0.00, 'lost');

create table opportunities (
    id              uuid primary key,
    customer_id     uuid not null references customers(id),
    lead_id         uuid,
    name            text not null,
    owner           text references reps(id),
    stage           text not null references pipeline_stages(id),
    amount          numeric(14,2) not null default 0 check (amount >= 0),
    currency        text not null default 'CNY',
    expected_close  date,
    status          text not null default 'open' check (status in ('open', 'won', 'lost')),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    closed_at       timestamptz
);
create index opportunities_customer_idx on opportunities (customer_id);
create index opportunities_open_idx on opportunities (owner, expected_close) where status = 'open';

-- Every stage change with its time, for reports and forecasts.
create table opportunity_stage_history (
    id              bigserial primary key,
    opportunity_id  uuid not null references opportunities(id),
    from_stage      text,
    to_stage        text not null,
    amount          numeric(14,2) not null,
    probability     numeric(4,3) not null,
    actor           text not null,
    at              timestamptz not null default now()
);
create index opportunity_stage_history_idx on opportunity_stage_history (opportunity_id, at);

create table quotes (
    id              uuid primary key,
    opportunity_id  uuid not null references opportunities(id),
    status          text not null default 'draft' check (status in ('draft', 'sent', 'accepted', 'rejected')),
    currency        text not null,
    subtotal        numeric(14,2) not null,
    discount        numeric(14,2) not null default 0,
    tax_rate        numeric(5,4) not null default 0,
    tax             numeric(14,2) not null,
    total           numeric(14,2) not null,
    valid_until     date,
    created_at      timestamptz not null default now()
);
create table quote_lines (
    quote_id      uuid not null references quotes(id) on delete cascade,
    line_no       integer not null,
    product       text not null,
    quantity      numeric(12,3) not null check (quantity > 0),
    unit_price    numeric(14,2) not null check (unit_price >= 0),
    discount_pct  numeric(5,2) not null default 0 check (discount_pct between 0 and 100),
    amount        numeric(14,2) not null,
    primary key (quote_id, line_no)
);

create table orders (
    id              uuid primary key,
    quote_id        uuid not null unique references quotes(id),
    opportunity_id  uuid not null references opportunities(id),
    customer_id     uuid not null references customers(id),
    total           numeric(14,2) not null,
    currency        text not null,
    status          text not null default 'open' check (status in ('open', 'fulfilled', 'cancelled')),
    ordered_at      timestamptz not null default now()
);

create table contracts (
    id           uuid primary key,
    order_id     uuid not null unique references orders(id),
    customer_id  uuid not null references customers(id),
    number       text not null unique,
    starts_on    date not null,
    ends_on      date not null check (ends_on >= starts_on),
    amount       numeric(14,2) not null,
    currency     text not null,
    signed_at    timestamptz not null default now()
);
create table contract_payments (
    contract_id  uuid not null references contracts(id) on delete cascade,
    seq          integer not null,
    due_on       date not null,
    amount       numeric(14,2) not null check (amount > 0),
    paid_at      timestamptz,
    primary key (contract_id, seq)
);

alter table recycle_rules add column exclude_open_opportunity boolean not null default false;
