-- Blind indexes: identity keys (lead_identities, customer_identities) and blocking keys (lead_keys) are
-- stored as '<field>:' plus a keyed HMAC of the normalized value, not the value. The HMAC key is a data
-- key (wrapped by the KEK in data_keys, so rotation re-wraps it). Version 0 ('plain') marks a database
-- whose keys were written in plaintext before this: it keeps working so until `rapport keys reindex`.
create table index_keys (
    version     integer primary key,
    key_id      uuid,
    digest      text not null check (digest in ('plain', 'sha256', 'sm3')),
    current     boolean not null default true,
    created_at  timestamptz not null default now(),
    check ((digest = 'plain') = (key_id is null))
);
create unique index index_keys_current_idx on index_keys (current) where current;
