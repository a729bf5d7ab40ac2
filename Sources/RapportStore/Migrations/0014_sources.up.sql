-- Issue 12: the registry of upstream sources and their signing keys, and what the ledger keeps of a
-- message's provenance so a signature can be checked again later (`rapport ledger verify`).

-- A registered source is authenticated: its messages must carry the broker-validated user_id of the
-- same name. must_sign: they must also carry a valid signature.
create table sources (
    name        text primary key,
    must_sign   boolean not null default false,
    created_at  timestamptz not null default now(),
    note        text
);

-- Public keys only; the private half never reaches Rapport's database.
create table signing_keys (
    key_id      text primary key,
    source      text not null references sources (name),
    scheme      text not null default 'ed25519',
    public_key  bytea not null,
    valid_from  timestamptz not null default now(),
    -- set by a rotation: accepted until then (the overlap), refused after
    retires_at  timestamptz,
    -- set by a revocation: refused from then on
    revoked_at  timestamptz,
    created_at  timestamptz not null default now()
);
create index signing_keys_source_idx on signing_keys (source);

-- Provenance of messages from registered sources (null for others): what the signature covered.
alter table inbound_ledger
    add column body_sha256  text,
    add column exchange     text,
    add column routing_key  text,
    add column content_type text,
    add column key_id       text,
    add column signature    text,
    add column signed_at_ms bigint;
