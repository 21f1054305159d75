-- Minimal Supabase-like scaffold for plain PostgreSQL 13-17.
--
-- Creates what Supabase's platform normally provides, so that Supabase-specific audit checks (and splinter)
-- can run against a plain server: the API roles, the auth/storage/extensions schemas, auth.users with the
-- auth.uid()/jwt()/role()/email() helpers, storage.buckets/objects, and Supabase's default privileges in
-- schema public.
--
-- * Idempotent: safe to run twice on the same database, and again in a second database of the same cluster
--   (roles are cluster-wide, so they are created in DO blocks that check pg_roles first).
-- * Needs no extension: gen_random_uuid() is built in since PostgreSQL 13.
-- * Runs as one multi-statement string (no psql meta-commands, no VACUUM / CONCURRENTLY).
-- * Must be run by the role that will later create the application objects (normally a superuser):
--   ALTER DEFAULT PRIVILEGES without FOR ROLE only applies to objects created by the role that ran it.
--
-- The default privileges at the end ("grant all on tables in public to anon, authenticated") are exactly
-- what Supabase does, and exactly why a table created in public without RLS is readable and writable by
-- anyone holding the anon key. The demo database relies on that.

-- Re-runs would otherwise print one "already exists, skipping" notice per object.
set client_min_messages = warning;

-- ---------------------------------------------------------------------------------------------------------
-- Roles (cluster-wide)
-- ---------------------------------------------------------------------------------------------------------
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$$;

-- PostgREST connects as authenticator and SET ROLEs to one of the API roles.
do $$
declare
    r text;
begin
    foreach r in array array['anon', 'authenticated', 'service_role'] loop
        if not exists (
            select 1
            from pg_catalog.pg_auth_members m
            join pg_catalog.pg_roles g on g.oid = m.roleid
            join pg_catalog.pg_roles u on u.oid = m.member
            where g.rolname = r and u.rolname = 'authenticator'
        ) then
            execute format('grant %I to authenticator', r);
        end if;
    end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists storage;

grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema storage to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------
-- auth
-- ---------------------------------------------------------------------------------------------------------
create table if not exists auth.users (
    id                  uuid        not null primary key,
    aud                 text,
    role                text,
    email               text,
    phone               text        default null,
    raw_app_meta_data   jsonb,
    raw_user_meta_data  jsonb,
    is_anonymous        boolean     not null default false,
    email_confirmed_at  timestamptz,
    last_sign_in_at     timestamptz,
    created_at          timestamptz default now(),
    updated_at          timestamptz default now(),
    constraint users_phone_key unique (phone)
);

create index if not exists users_email_idx on auth.users (email);

-- auth.users is not granted to the API roles (as on Supabase): only service_role may touch it.
grant all on table auth.users to service_role;

-- Claims arrive as the JSON GUC request.jwt.claims (PostgREST >= 9); older PostgREST set one GUC per claim
-- (request.jwt.claim.sub, ...). Both are read, the JSON form first.
create or replace function auth.uid()
returns uuid
language sql
stable
set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), '')
    )::uuid
$$;

create or replace function auth.role()
returns text
language sql
stable
set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role',
        nullif(pg_catalog.current_setting('request.jwt.claim.role', true), '')
    )::text
$$;

create or replace function auth.email()
returns text
language sql
stable
set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email',
        nullif(pg_catalog.current_setting('request.jwt.claim.email', true), '')
    )::text
$$;

create or replace function auth.jwt()
returns jsonb
language sql
stable
set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
    to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------
-- storage
-- ---------------------------------------------------------------------------------------------------------
create table if not exists storage.buckets (
    id                  text        not null primary key,
    name                text        not null,
    owner               uuid,
    owner_id            text,
    public              boolean     default false,
    avif_autodetection  boolean     default false,
    file_size_limit     bigint,
    allowed_mime_types  text[],
    created_at          timestamptz default now(),
    updated_at          timestamptz default now()
);

create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
    id                  uuid        not null default gen_random_uuid() primary key,
    bucket_id           text        references storage.buckets (id),
    name                text,
    owner               uuid,
    owner_id            text,
    metadata            jsonb,
    user_metadata       jsonb,
    version             text,
    path_tokens         text[]      generated always as (pg_catalog.string_to_array(name, '/')) stored,
    created_at          timestamptz default now(),
    updated_at          timestamptz default now(),
    last_accessed_at    timestamptz default now()
);

-- Also covers the bucket_id foreign key.
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant all on table storage.buckets, storage.objects to anon, authenticated, service_role;

-- Path helpers used in storage policies: storage.foldername('a/b/c.png') = {a,b}.
create or replace function storage.foldername(name text)
returns text[]
language sql
immutable
set search_path = ''
as $$
    select (pg_catalog.string_to_array(name, '/'))[1 : pg_catalog.array_length(pg_catalog.string_to_array(name, '/'), 1) - 1]
$$;

create or replace function storage.filename(name text)
returns text
language sql
immutable
set search_path = ''
as $$
    select (pg_catalog.string_to_array(name, '/'))[pg_catalog.array_length(pg_catalog.string_to_array(name, '/'), 1)]
$$;

create or replace function storage.extension(name text)
returns text
language sql
immutable
set search_path = ''
as $$
    select pg_catalog.reverse(pg_catalog.split_part(pg_catalog.reverse(storage.filename(name)), '.', 1))
$$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
    to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------
-- Supabase default privileges in schema public (this is what makes Supabase projects leaky).
-- ---------------------------------------------------------------------------------------------------------
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

reset client_min_messages;
