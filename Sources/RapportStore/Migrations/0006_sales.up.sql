-- Sales work, part one: reps and teams, lead pools with claim rules, ownership history.
create table teams (
    id          text primary key,
    name        text not null,
    assignment  text not null default 'round_robin' check (assignment in ('round_robin', 'least_loaded')),
    -- the rep who got the last round-robin lead
    last_rep    text,
    created_at  timestamptz not null default now()
);

create table reps (
    id          text primary key,
    name        text not null,
    team_id     text references teams(id),
    active      boolean not null default true,
    -- leads a rep may hold at once
    capacity    integer not null default 200 check (capacity >= 0),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create table lead_pools (
    id                 text primary key,
    name               text not null,
    max_per_claim      integer not null default 20 check (max_per_claim > 0),
    max_per_day        integer not null default 100 check (max_per_day > 0),
    max_held           integer not null default 200 check (max_held > 0),
    -- a rep may not re-claim a lead they returned within this many days
    reclaim_bar_days   integer not null default 7 check (reclaim_bar_days >= 0)
);
insert into lead_pools (id, name) values ('default', 'Default lead pool');

alter table leads add column pool_id text not null default 'default' references lead_pools(id),
                  add column owner text references reps(id),
                  add column owned_since timestamptz;
-- The pool's queue: unowned leads, oldest first.
create index leads_pool_queue_idx on leads (pool_id, first_seen_at) where owner is null and merged_into is null;
create index leads_owner_idx on leads (owner) where owner is not null;

-- Every change of a lead's owner, for the daily limits, the re-claim bar and the history.
create table lead_ownership (
    id        bigserial primary key,
    lead_id   uuid not null,
    rep_id    text not null,
    action    text not null check (action in ('claim', 'return', 'assign')),
    actor     text not null,
    reason    text,
    at        timestamptz not null default now()
);
create index lead_ownership_rep_idx on lead_ownership (rep_id, action, at);
create index lead_ownership_lead_idx on lead_ownership (lead_id, rep_id, action, at);
