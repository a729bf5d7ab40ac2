drop table if exists resolution_log;
