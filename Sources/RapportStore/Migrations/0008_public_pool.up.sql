-- The public customer pool (公海): pools with claim rules and members, recycle rules, ownership history.
create table public_pools (
    id                 text primary key,
    name               text not null,
    max_per_claim      integer not null default 10 check (max_per_claim > 0),
    max_per_day        integer not null default 30 check (max_per_day > 0),
    max_held           integer not null default 300 check (max_held > 0),
    reclaim_bar_days   integer not null default 30 check (reclaim_bar_days >= 0)
);
insert into public_pools (id, name) values ('public', '公海');

-- Who may claim from a pool; a pool without members is open to every active rep.
create table public_pool_members (
    pool_id  text not null references public_pools(id) on delete cascade,
    rep_id   text not null references reps(id),
    primary key (pool_id, rep_id)
);

create table recycle_rules (
    id                        bigserial primary key,
    pool_id                   text not null references public_pools(id),
    -- the customer level it applies to (A, B, C…); null for every level
    level                     text,
    no_followup_days          integer check (no_followup_days > 0),
    no_deal_days              integer check (no_deal_days > 0),
    exclude_with_deal         boolean not null default false,
    -- the owner is warned this many days before
    warn_days                 integer not null default 3 check (warn_days >= 0),
    active                    boolean not null default true,
    check (no_followup_days is not null or no_deal_days is not null)
);

alter table customers add column level text not null default 'C',
                      add column public_pool_id text references public_pools(id),
                      add column owned_since timestamptz,
                      add column last_deal_at timestamptz,
                      add column recycle_warned_at timestamptz,
                      add column updated_at timestamptz not null default now();
create index customers_public_idx on customers (public_pool_id, created_at) where public_pool_id is not null;
create index customers_owner_idx on customers (owner) where owner is not null;

create table customer_ownership (
    id           bigserial primary key,
    customer_id  uuid not null,
    rep_id       text,
    action       text not null check (action in ('claim', 'return', 'add', 'recycle', 'assign')),
    pool_id      text,
    actor        text not null,
    reason       text,
    at           timestamptz not null default now()
);
create index customer_ownership_rep_idx on customer_ownership (rep_id, action, at);
create index customer_ownership_customer_idx on customer_ownership (customer_id, at);
