alter table customers alter column search_tokens set statistics -1;
alter table prospects alter column search_tokens set statistics -1;
alter table leads alter column search_tokens set statistics -1;
alter table kb_articles alter column search_tokens set statistics -1;
