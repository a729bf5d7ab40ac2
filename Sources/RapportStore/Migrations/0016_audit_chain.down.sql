drop table if exists audit_log;
drop function if exists audit_log_append_only();
