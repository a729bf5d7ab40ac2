-- Issue 13: envelope encryption. The database knows its key-encryption keys by id and check value only
-- (the keys live in a file beside the workers); every person's data key is stored wrapped by one of them.
-- A data key's row is its only copy: deleting it is the erase (crypto-shredding).
create table key_encryption_keys (
    id          text primary key,
    suite       text not null,
    check_mac   bytea not null,
    current     boolean not null default false,
    created_at  timestamptz not null default now(),
    retired_at  timestamptz
);
create unique index key_encryption_keys_one_current on key_encryption_keys (current) where current;

-- One per lead (its id), and one per dead letter body.
create table data_keys (
    id          uuid primary key,
    kek_id      text not null references key_encryption_keys(id),
    wrapped     bytea not null,
    created_at  timestamptz not null default now()
);
create index data_keys_kek_idx on data_keys (kek_id);

-- Erase tombstones: which record, when, by whom; no personal data. `rapport restore` re-applies them
-- (and the erase log kept beside the KEK file) to a restored backup.
create table erasures (
    erase_id    uuid primary key,
    kind        text not null check (kind in ('lead', 'customer')),
    subject     uuid not null,
    keys        integer not null,
    actor       text not null,
    erased_at   timestamptz not null default now()
);

-- A submission's personal fields, sealed under the data key `sealed_key` (its lead's when it was written);
-- the plaintext columns stay empty for such rows.
alter table inbound_ledger add column sealed bytea, add column sealed_key uuid;
create index inbound_ledger_sealed_key_idx on inbound_ledger (sealed_key) where sealed_key is not null;
alter table dead_letters add column body_key uuid;
