-- Commands from rapport.commands, each applied once: a redelivered command finds its row and does nothing.
create table processed_commands (
    message_id    text primary key,
    command       text not null,
    actor         text not null,
    body          jsonb not null,
    outcome       text not null default 'pending' check (outcome in ('pending', 'done', 'rejected')),
    detail        text,
    result        jsonb,
    processed_at  timestamptz not null default now()
);

alter table duplicate_candidates add column decided_by text, add column decided_at timestamptz,
    add column merge_id bigint;
