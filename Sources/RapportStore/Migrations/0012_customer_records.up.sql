-- Customers as people use them: companies and people with contacts, addresses, custom fields, tags and a
-- field history; soft delete and merges; one token search engine (search_tokens, GIN) for customers,
-- prospects (在线搜客) and the knowledge base. Tokens are derived in Swift (RapportCore.SearchTokens):
-- pg_trgm drops Chinese under a C locale and has no trigrams for two-character names.
alter table customers
    add column kind            text not null default 'person' check (kind in ('person', 'company')),
    -- phone and email stay the primary ones; these hold every one (E.164, lowercased)
    add column phones          text[] not null default '{}',
    add column emails          text[] not null default '{}',
    add column industry        text,
    add column source_channel  text,
    add column tags            text[] not null default '{}',
    add column custom          jsonb not null default '{}',
    add column province        text,
    add column city            text,
    add column district        text,
    add column version         integer not null default 1,
    add column deleted_at      timestamptz,
    add column merged_into     uuid references customers(id),
    -- the searchable fields as `field<TAB>value` lines, for the exact re-check and "why it matched"
    add column search_text     text not null default '',
    add column search_tokens   text[] not null default '{}';
create index customers_tokens_idx on customers using gin (search_tokens);
create index customers_created_idx on customers (created_at desc, id desc);
create index customers_name_idx on customers (name, id);
create index customers_city_idx on customers (city, created_at desc);
create index customers_industry_idx on customers (industry, created_at desc);
create index customers_level_idx on customers (level, created_at desc);
create index customers_tags_idx on customers using gin (tags);

create table customer_contacts (
    id           uuid primary key,
    customer_id  uuid not null references customers(id) on delete cascade,
    name         text not null,
    title        text,
    phones       text[] not null default '{}',
    emails       text[] not null default '{}',
    is_primary   boolean not null default false,
    position     integer not null default 0
);
create index customer_contacts_customer_idx on customer_contacts (customer_id, position);

create table customer_addresses (
    id           uuid primary key,
    customer_id  uuid not null references customers(id) on delete cascade,
    label        text,
    province     text,
    city         text,
    district     text,
    line         text,
    is_primary   boolean not null default false,
    position     integer not null default 0
);
create index customer_addresses_customer_idx on customer_addresses (customer_id, position);

-- Custom fields an admin defines, per entity ('customer', 'prospect').
create table custom_field_definitions (
    entity      text not null,
    key         text not null,
    label       text not null,
    kind        text not null check (kind in ('text', 'number', 'date', 'option')),
    options     text[] not null default '{}',
    required    boolean not null default false,
    max_length  integer not null default 500,
    created_at  timestamptz not null default now(),
    primary key (entity, key)
);

-- Levels a shop uses (A/B/C by default), in rank order.
create table customer_levels (
    id        text primary key,
    name      text not null,
    rank      integer not null
);
insert into customer_levels (id, name, rank) values ('A', 'A', 1), ('B', 'B', 2), ('C', 'C', 3);

-- Every field change: who, when, old, new (null old: the field was set; null new: cleared).
create table customer_history (
    id           bigserial primary key,
    customer_id  uuid not null,
    version      integer not null,
    field        text not null,
    old_value    jsonb,
    new_value    jsonb,
    actor        text not null,
    at           timestamptz not null default now()
);
create index customer_history_customer_idx on customer_history (customer_id, id);

create table customer_merges (
    id            bigserial primary key,
    winner_id     uuid not null references customers(id),
    loser_id      uuid not null references customers(id),
    actor         text not null,
    reason        text,
    -- what moved, so an unmerge can move it back
    moved         jsonb not null,
    merged_at     timestamptz not null default now(),
    unmerged_at   timestamptz,
    unmerged_by   text
);
create unique index customer_merges_live_idx on customer_merges (loser_id) where unmerged_at is null;

create table saved_searches (
    rep_id      text not null,
    name        text not null,
    entity      text not null,
    query       jsonb not null,
    created_at  timestamptz not null default now(),
    primary key (rep_id, name)
);

-- 在线搜客: a base of target companies and people, apart from customers.
create table prospects (
    id                   uuid primary key,
    kind                 text not null default 'company' check (kind in ('person', 'company')),
    name                 text not null,
    credit_code          text unique,
    legal_rep            text,
    registered_capital   numeric(20, 2),
    founded_on           date,
    industry             text,
    province             text,
    city                 text,
    district             text,
    size                 text,
    phones               text[] not null default '{}',
    emails               text[] not null default '{}',
    website              text,
    custom               jsonb not null default '{}',
    source               text not null,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    search_text          text not null default '',
    search_tokens        text[] not null default '{}'
);
create index prospects_tokens_idx on prospects using gin (search_tokens);
create index prospects_created_idx on prospects (created_at desc, id desc);
create index prospects_city_idx on prospects (city, created_at desc);
create index prospects_industry_idx on prospects (industry, created_at desc);
create index prospects_capital_idx on prospects (registered_capital);
create index prospects_founded_idx on prospects (founded_on);
-- A normalized phone belongs to one prospect: concurrent imports cannot race into two.
create table prospect_phones (
    phone        text primary key,
    prospect_id  uuid not null references prospects(id) on delete cascade deferrable initially deferred
);

-- Knowledge base: articles in Markdown, versioned, for staff (internal) or customers (public).
create table kb_articles (
    id             uuid primary key,
    title          text not null,
    body           text not null,
    category       text,
    tags           text[] not null default '{}',
    audience       text not null check (audience in ('internal', 'public')),
    status         text not null default 'draft' check (status in ('draft', 'published', 'archived')),
    version        integer not null default 1,
    helpful_yes    integer not null default 0,
    helpful_no     integer not null default 0,
    created_by     text not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    search_text    text not null default '',
    search_tokens  text[] not null default '{}'
);
create index kb_articles_tokens_idx on kb_articles using gin (search_tokens);
create table kb_article_versions (
    article_id  uuid not null references kb_articles(id) on delete cascade,
    version     integer not null,
    title       text not null,
    body        text not null,
    category    text,
    tags        text[] not null,
    status      text not null,
    actor       text not null,
    at          timestamptz not null default now(),
    primary key (article_id, version)
);
create table kb_related (
    article_id  uuid not null references kb_articles(id) on delete cascade,
    related_id  uuid not null references kb_articles(id) on delete cascade,
    primary key (article_id, related_id),
    check (article_id <> related_id)
);

-- An outbox row may go to another exchange than rapport.events: "add as lead" goes to rapport.inbound.
alter table outbox add column exchange text;

-- Leads are searched with the same engine. Their tokens are filled by the indexer job, off the ingest
-- path: a change to a searchable field marks the lead stale (a trigger, so every writer does it).
alter table leads add column search_text text not null default '',
                  add column search_tokens text[] not null default '{}',
                  add column search_stale boolean not null default true;
create index leads_tokens_idx on leads using gin (search_tokens);
create index leads_search_stale_idx on leads (id) where search_stale;
create index leads_created_idx on leads (created_at desc, id desc);
create function leads_mark_search_stale() returns trigger language plpgsql as $$
begin
    new.search_stale := true;
    return new;
end $$;
create trigger leads_search_stale before update of name, phone, email, company, address on leads
    for each row when (old.name is distinct from new.name or old.phone is distinct from new.phone
                       or old.email is distinct from new.email or old.company is distinct from new.company
                       or old.address is distinct from new.address)
    execute function leads_mark_search_stale();
