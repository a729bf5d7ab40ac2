drop table if exists import_batches;
