drop table if exists kb_related, kb_article_versions, kb_articles, prospect_phones, prospects, saved_searches,
    customer_merges, customer_history, customer_levels, custom_field_definitions, customer_addresses, customer_contacts;
drop index if exists customers_tokens_idx, customers_created_idx, customers_name_idx, customers_city_idx,
    customers_industry_idx, customers_level_idx, customers_tags_idx;
alter table customers drop column kind, drop column phones, drop column emails, drop column industry, drop column source_channel, drop column tags,
    drop column custom, drop column province, drop column city, drop column district, drop column version,
    drop column deleted_at, drop column merged_into, drop column search_text, drop column search_tokens;
alter table outbox drop column exchange;
drop trigger if exists leads_search_stale on leads;
drop function if exists leads_mark_search_stale();
drop index if exists leads_tokens_idx, leads_search_stale_idx, leads_created_idx;
alter table leads drop column search_text, drop column search_tokens, drop column search_stale;
