-- Manual merges with what they changed, so an unmerge restores both leads exactly.
create table lead_merges (
    id              bigserial primary key,
    winner_lead_id  uuid not null,
    loser_lead_id   uuid not null,
    actor           text not null,
    reason          text,
    winner_before   jsonb not null,
    loser_before    jsonb not null,
    loser_identities text[] not null,
    loser_keys      text[] not null,
    winner_keys     text[] not null,
    loser_messages  jsonb not null,
    merged_at       timestamptz not null default now(),
    unmerged_at     timestamptz
);
create index lead_merges_loser_idx on lead_merges (loser_lead_id);
alter table leads add column merged_into uuid;
