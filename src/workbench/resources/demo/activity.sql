-- Simulated production activity for the "Tallyboard" demo database.
--
-- Run after resources/scaffold/supabase.sql and resources/demo/schema.sql, as the same (superuser) role.
-- It produces the runtime state that schema alone cannot: usage statistics (index and sequential scans),
-- a bloated table, fresh planner statistics everywhere except on the table meant to be stale.
-- Plain multi-statement script (no psql meta-commands, no VACUUM), so it can be sent as one string.
--
-- Planted runtime defects (see DEFECTS.md):
--   table_bloat          public.background_jobs  20,000 jobs inserted, 15,000 deleted, autovacuum off
--   stale_statistics     public.notifications    never analyzed (autovacuum off, skipped by the ANALYZE below)
--                        public.background_jobs  never analyzed, 35,000 modifications (autovacuum off)
--   high_seq_scan_ratio  public.audit_log        ~16,000 rows, read by repeated sequential scans (reports
--                                                filter on action/payload, which no index covers)
--   unused_index         public.idx_projects_archived_at is never used by any query below
-- Everything else gets at least one index scan, so unused_index only reports planted indexes.
--
-- Statistics counters are flushed at transaction end (and forced at the end on PostgreSQL 15+); the
-- unused_index check still needs its minimum statistics age lowered to report anything on a fresh load.

set client_min_messages = warning;
set synchronous_commit = off;

-- ---------------------------------------------------------------------------------------------------------
-- Background worker: a day of jobs, then the nightly cleanup of finished ones. Autovacuum is disabled on
-- background_jobs (see schema.sql), so the 15,000 dead tuples stay.
-- ---------------------------------------------------------------------------------------------------------
insert into public.background_jobs (queue, job_type, status, payload, attempts, run_at, finished_at, created_at)
select (array['default', 'emails', 'webhooks'])[1 + g % 3],
       (array['send_invoice_email', 'deliver_webhook', 'generate_pdf', 'sync_calendar', 'recalculate_usage'])[1 + g % 5],
       case when g <= 15000 then 'done' when g % 50 = 0 then 'failed' else 'pending' end,
       jsonb_build_object('organization_id', md5('org-' || (1 + g % 24))::uuid, 'attempt_key', g),
       case when g <= 15000 then 1 else 0 end,
       now() - interval '1 day' + g * interval '4 seconds',
       case when g <= 15000 then now() - interval '1 day' + g * interval '4 seconds' + interval '2 seconds' end,
       now() - interval '1 day' + g * interval '4 seconds'
from generate_series(1, 20000) g;

delete from public.background_jobs where status = 'done';

-- ---------------------------------------------------------------------------------------------------------
-- A little write traffic from the app.
-- ---------------------------------------------------------------------------------------------------------
update public.tasks set status = 'done', completed_at = now()
where id in (select id from public.tasks where status = 'review' order by id limit 40);

update public.notifications set read_at = now()
where id in (select id from public.notifications where read_at is null order by id limit 60);

insert into public.comments (organization_id, task_id, author_id, body)
select t.organization_id, t.id, t.assignee_id, 'Following up on this today.'
from public.tasks t
where t.id % 97 = 0;

insert into public.webhook_deliveries (organization_id, webhook_id, event, response_code, duration_ms)
select w.organization_id, w.id, 'invoice.paid', 200, 120
from public.webhooks w;

-- ---------------------------------------------------------------------------------------------------------
-- Fresh planner statistics, as autovacuum would leave them: every table is analyzed except those with
-- autovacuum_enabled = false (public.notifications and public.background_jobs), which therefore keep
-- stale statistics (stale_statistics).
-- ---------------------------------------------------------------------------------------------------------
do $$
declare
    r record;
begin
    for r in
        select c.oid::regclass as rel
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'm')
          and not c.relispartition
          and n.nspname not in ('pg_catalog', 'information_schema')
          and n.nspname not like 'pg\_%'
          and not coalesce(c.reloptions, '{}') @> array['autovacuum_enabled=false']
        order by 1
    loop
        execute format('analyze %s', r.rel);
    end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Read traffic: what the app and the reporting jobs do all day.
-- ---------------------------------------------------------------------------------------------------------
-- History from before the duplicate idx_tasks_project_id existed, when tasks_project_id_idx served the
-- board. (Of two identical indexes the planner always picks the newest, so without this the older one
-- would look unused. The newer one is hidden by dropping it inside a subtransaction that is rolled back;
-- scan counters survive the rollback.)
do $$
declare
    p int;
begin
    begin
        drop index public.idx_tasks_project_id;
        for p in 1 .. 5 loop
            perform count(*) from public.tasks t where t.project_id = md5('project-' || (p * 4) || '-2')::uuid;
        end loop;
        raise exception using errcode = 'P0001', message = 'undo';
    exception
        when sqlstate 'P0001' then null;
    end;
end
$$;

-- Board: open tasks of a project, with labels and comment counts.
select t.id, t.title, t.status, count(c.id) as comments
from public.tasks t
left join public.comments c on c.task_id = t.id
where t.project_id = md5('project-3-1')::uuid and t.status <> 'done'
group by t.id
order by t.priority, t.id;

-- "My tasks".
select t.id, t.title, t.due_on
from public.tasks t
where t.assignee_id = md5('user-30')::uuid and t.status in ('todo', 'in_progress')
order by t.due_on;

-- Invoice list of a customer and one invoice with its lines and payments.
select i.number, i.status, i.total
from public.invoices i
where i.customer_id = md5('customer-4-7')::uuid
order by i.issued_on desc;

select l.position, l.description, l.quantity, l.unit_price, l.amount
from public.invoice_lines l
where l.invoice_id = (select min(id) from public.invoices where status = 'paid');

select p.amount, p.paid_at
from public.payments p
where p.invoice_id = (select min(id) from public.invoices where status = 'paid');

-- Overdue invoices (partial index on open invoices).
select count(*) from public.invoices where status = 'open' and due_on < current_date;

-- Notifications bell.
select n.id, n.title from public.notifications n
where n.user_id = md5('user-40')::uuid
order by n.created_at desc
limit 20;

-- defect: high_seq_scan_ratio
-- Reporting jobs on the audit log: they filter on action and payload, which no index covers, so every
-- run is a sequential scan of the whole table.
select action, count(*) from public.audit_log where payload ->> 'status' = 'done' group by action;
select count(*) from public.audit_log where action = 'export';
select count(*) from public.audit_log where action = 'delete' and entity_type = 'invoices';
select entity_type, count(*) from public.audit_log where ip_address << inet '10.17.0.0/16' group by entity_type;
select count(*) from public.audit_log where payload -> 'changed' ? 'assignee_id';
select date_trunc('day', created_at) as day, count(*) from public.audit_log
where action = 'login' group by 1 order by 1 desc limit 7;
select count(distinct actor_id) from public.audit_log where action in ('insert', 'update');
select count(*) from public.audit_log where entity_id = '1234';
select action, count(*) from public.audit_log where payload ->> 'status' = 'todo' group by action;
select count(*) from public.audit_log where action = 'export' and entity_type = 'customers';
select count(*) from public.audit_log where entity_type = 'projects';
select count(*) from public.audit_log where payload ->> 'request_id' like 'ff%';

-- Admin "activity" tab: the one audit query that uses an index.
select a.action, a.entity_type, a.created_at
from public.audit_log a
where a.organization_id = md5('org-5')::uuid
order by a.created_at desc
limit 50;

-- Dashboard.
select status, count(*) from public.tasks where organization_id = md5('org-2')::uuid group by status;
select * from public.org_revenue_monthly where organization_id = md5('org-2')::uuid order by month;
select metric, sum(value) from public.usage_metrics
where organization_id = md5('org-2')::uuid and day >= current_date - 30 group by metric;
select event_type, count(*) from public.event_log
where organization_id = md5('org-2')::uuid and created_at >= now() - interval '7 days' group by event_type;

-- ---------------------------------------------------------------------------------------------------------
-- Long-tail traffic: every other non-unique index is used at least once (equality on its key columns,
-- with the index predicate for partial indexes). Excluded: public.idx_projects_archived_at (the planted
-- unused index) and public.idx_tasks_project_id (the planted duplicate, which serves every project_id
-- lookup anyway, including the one generated here for tasks_project_id_idx).
-- ---------------------------------------------------------------------------------------------------------
do $$
declare
    r       record;
    a       record;
    val     text;
    conds   text[];
    src     regclass;
    n       bigint;
begin
    perform pg_catalog.set_config('enable_seqscan', 'off', true);
    for r in
        select i.indexrelid, i.indrelid, i.indkey::int2[] as keys,
               pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred,
               c.relispartition
        from pg_catalog.pg_index i
        join pg_catalog.pg_class ic on ic.oid = i.indexrelid
        join pg_catalog.pg_class c on c.oid = i.indrelid
        join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
        where not i.indisunique
          and i.indisvalid
          and c.relkind in ('r', 'm')
          and ns.nspname not in ('pg_catalog', 'information_schema')
          and ns.nspname not like 'pg\_%'
          and 0 <> all (i.indkey::int2[])
          and i.indexrelid not in ('public.idx_projects_archived_at'::regclass,
                                   'public.idx_tasks_project_id'::regclass)
        order by ns.nspname, c.relname, ic.relname
    loop
        conds := array[]::text[];
        -- Partitions may be empty: take sample values from the whole partition tree.
        src := case when r.relispartition then pg_catalog.pg_partition_root(r.indrelid) else r.indrelid end;
        for a in
            select att.attname, pg_catalog.format_type(att.atttypid, att.atttypmod) as typ
            from unnest(r.keys) with ordinality as k(attnum, ord)
            join pg_catalog.pg_attribute att on att.attrelid = r.indrelid and att.attnum = k.attnum
            order by k.ord
        loop
            execute format('select %I::text from %s where %I is not null limit 1', a.attname, src, a.attname)
                into val;
            conds := conds || case when val is null then format('%I is null', a.attname)
                                   else format('%I = %L::%s', a.attname, val, a.typ) end;
        end loop;
        if r.pred is not null then
            conds := conds || ('(' || r.pred || ')');
        end if;
        execute format('select count(*) from (select 1 from %s where %s limit 10) s',
                       r.indrelid::regclass, array_to_string(conds, ' and '))
            into n;
    end loop;
end
$$;

-- Make the counters visible to other sessions right away (PostgreSQL 15+; older servers flush on their
-- own within a second of going idle).
do $$
begin
    if current_setting('server_version_num')::int >= 150000 then
        perform pg_catalog.pg_stat_force_next_flush();
    end if;
end
$$;

reset synchronous_commit;
reset client_min_messages;
