-- Fuzzy batches decide outside any lock and commit in log order: each commit records the leads it
-- created or changed, so a batch planned earlier can tell whether anything it did not see matters to it.
-- Rows are only needed while a plan can be in flight; LeadStore deletes those older than ten minutes.
create table resolution_log (
    seq          bigint generated always as identity primary key,
    lead_ids     uuid[] not null,
    touch_counts int[] not null,
    created_at   timestamptz not null default now()
);
