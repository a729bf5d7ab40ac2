alter table leads drop column if exists merged_into;
drop table if exists lead_merges;
