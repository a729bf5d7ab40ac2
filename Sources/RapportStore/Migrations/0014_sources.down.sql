alter table inbound_ledger
    drop column if exists body_sha256, drop column if exists exchange, drop column if exists routing_key,
    drop column if exists content_type, drop column if exists key_id, drop column if exists signature,
    drop column if exists signed_at_ms;
drop table if exists signing_keys;
drop table if exists sources;
