drop table customer_ownership;
drop index customers_owner_idx;
drop index customers_public_idx;
alter table customers drop column level, drop column public_pool_id, drop column owned_since, drop column last_deal_at,
                      drop column recycle_warned_at, drop column updated_at;
drop table recycle_rules;
drop table public_pool_members;
drop table public_pools;
