alter table duplicate_candidates drop column decided_by, drop column decided_at, drop column merge_id;
drop table processed_commands;
