drop table lead_ownership;
drop index leads_owner_idx;
drop index leads_pool_queue_idx;
alter table leads drop column pool_id, drop column owner, drop column owned_since;
drop table lead_pools;
drop table reps;
drop table teams;
