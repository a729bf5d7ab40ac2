alter table customers drop column last_followup_at;
alter table leads drop column last_followup_at;
drop table followup_records;
drop table followup_plans;
