-- Least privilege: the workers log in as members of rapport_app, never as the owner. rapport_app may
-- read and write rows, and nothing more: no DDL (it owns nothing and may not create in the schema), no
-- UPDATE, DELETE or TRUNCATE of the audit chain, and no read of wrapped keys except the ones it names,
-- through rapport_data_keys(). Migrations, key rotation and reindex run as the owner.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'rapport_app') then
        create role rapport_app nologin;
    end if;
exception when duplicate_object or unique_violation then
    null;  -- another database's migration made it meanwhile (roles are per cluster)
end $$;

grant usage on schema public to rapport_app;
grant select, insert, update, delete on all tables in schema public to rapport_app;
grant usage, select, update on all sequences in schema public to rapport_app;
-- Tables of later migrations get the same; a migration that must narrow them revokes.
alter default privileges in schema public grant select, insert, update, delete on tables to rapport_app;
alter default privileges in schema public grant usage, select, update on sequences to rapport_app;

revoke update, delete, truncate on audit_log from rapport_app;
revoke update, delete, truncate on key_encryption_keys, index_keys from rapport_app;

-- The key store: ids and KEK ids are readable (to insert, count and erase); wrapped keys only by id.
revoke select, update, truncate on data_keys from rapport_app;
grant select (id, kek_id, created_at) on data_keys to rapport_app;

create function rapport_data_keys(ids uuid[]) returns table (id uuid, kek_id text, wrapped bytea)
    language sql stable security definer set search_path = public, pg_temp
    as $$ select d.id, d.kek_id, d.wrapped from data_keys d where d.id = any(ids) $$;
revoke all on function rapport_data_keys(uuid[]) from public;
grant execute on function rapport_data_keys(uuid[]) to rapport_app;

-- The current blind-index version, share-locked for the caller's transaction (a row lock needs UPDATE
-- on the table, which rapport_app has not): a reindex waits for the commits that read it, and they for it.
create function rapport_index_version() returns integer
    language sql volatile security definer set search_path = public, pg_temp
    as $$ select version from index_keys where current for key share $$;
revoke all on function rapport_index_version() from public;
grant execute on function rapport_index_version() to rapport_app;
