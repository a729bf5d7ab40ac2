-- One row per imported file (the same file imported again is the same batch).
create table import_batches (
    id            text primary key,
    source        text not null,
    file_name     text not null,
    sha256        text not null,
    rows_total    integer not null default 0,
    rows_published integer not null default 0,
    rows_dead     integer not null default 0,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz
);
