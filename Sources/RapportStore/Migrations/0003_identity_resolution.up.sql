-- Fuzzy identity resolution: blocking keys per lead (many leads may share one), review queue,
-- and each ledger decision's score and reasons.
create table lead_keys (
    key      text not null,
    lead_id  uuid not null,
    primary key (key, lead_id)
);

create table duplicate_candidates (
    id                 bigserial primary key,
    lead_id            uuid not null,
    candidate_lead_id  uuid not null,
    score              double precision not null,
    reasons            jsonb not null,
    source             text not null,
    message_id         text not null,
    status             text not null default 'open' check (status in ('open', 'merged', 'dismissed')),
    created_at         timestamptz not null default now()
);
create index duplicate_candidates_open_idx on duplicate_candidates (created_at) where status = 'open';

alter table inbound_ledger add column score double precision, add column reasons jsonb;

-- Leads created before this migration get their keys from their exact identities.
insert into lead_keys (key, lead_id)
select case when key like 'phone:%' then 'p:' || substr(key, 7) else 'e:' || substr(key, 7) end, lead_id
from lead_identities on conflict do nothing;
