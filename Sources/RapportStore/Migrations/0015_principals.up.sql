-- Issue 12: who may send commands. A principal is a broker user (the validated user_id of a command)
-- with a role; reps are tied to their rep record, managers to the team they lead.
create table principals (
    name        text primary key,
    role        text not null check (role in ('admin', 'manager', 'rep', 'service_agent', 'system')),
    rep_id      text references reps (id),
    team_id     text references teams (id),
    created_at  timestamptz not null default now(),
    check (role <> 'rep' or rep_id is not null),
    check (role <> 'manager' or team_id is not null)
);
insert into principals (name, role) values ('rapport-admin', 'admin'), ('rapport-worker', 'system');

-- Every refused command, for the audit (the next issue's chain links these rows).
create table access_refusals (
    id          bigserial primary key,
    at          timestamptz not null default now(),
    principal   text,
    routing_key text not null,
    message_id  text,
    reason      text not null
);
create index access_refusals_at_idx on access_refusals (at);
