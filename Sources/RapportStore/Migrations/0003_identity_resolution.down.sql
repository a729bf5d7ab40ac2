alter table inbound_ledger drop column if exists score, drop column if exists reasons;
drop table if exists duplicate_candidates;
drop table if exists lead_keys;
