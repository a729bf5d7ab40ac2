-- The planner's estimate for `search_tokens && '{…}'` comes from the column's most common elements. With
-- the default statistics target a rare token (a full name's bigram) is estimated at thousands of rows, so
-- the planner walks the created_at index and filters a million rows for a page of 20 (2.8 s measured on
-- 1M customers); with a larger sample it uses the token index for rare tokens and keeps the ordered scan
-- for common ones (bench/search).
alter table customers alter column search_tokens set statistics 2000;
alter table prospects alter column search_tokens set statistics 2000;
alter table leads alter column search_tokens set statistics 2000;
alter table kb_articles alter column search_tokens set statistics 2000;
