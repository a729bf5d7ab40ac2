alter table dead_letters drop column body_key;
drop index inbound_ledger_sealed_key_idx;
alter table inbound_ledger drop column sealed, drop column sealed_key;
drop table erasures;
drop table data_keys;
drop table key_encryption_keys;
