alter table recycle_rules drop column exclude_open_opportunity;
drop table contract_payments;
drop table contracts;
drop table orders;
drop table quote_lines;
drop table quotes;
drop table opportunity_stage_history;
drop table opportunities;
drop table pipeline_stages;
