drop function rapport_data_keys(uuid[]);
drop function rapport_index_version();
alter default privileges in schema public revoke select, insert, update, delete on tables from rapport_app;
alter default privileges in schema public revoke usage, select, update on sequences from rapport_app;
revoke all on all tables in schema public from rapport_app;
revoke all on all sequences in schema public from rapport_app;
revoke usage on schema public from rapport_app;
