-- scripts/stack.d/eventstore.sql - setup of the event store's PostgreSQL database (FerretDB's storage), applied by
-- scripts/stack as the cluster's superuser on every start of the eventstore service; idempotent.
--
-- FerretDB 1.x keeps each collection in a table with one jsonb column, _jsonb, and indexes _id with a unique btree
-- on (_jsonb->'_id'). Its lookups by _id (every upsert: replaceOne/updateOne with upsert, which is what Kafka
-- Connect's MongoDB sink sends) filter with `_jsonb->'_id' @> $1`, which that btree cannot serve, so each upsert
-- scans the whole collection. A GIN index with jsonb_path_ops on the same expression serves @>. FerretDB cannot
-- create such an index itself (createIndexes makes btrees), so an event trigger adds it to every collection table
-- the moment FerretDB creates it. A production MongoDB needs nothing of this: its _id index serves upserts.
--
-- The same holds for every other equality FerretDB hands to Postgres (`_jsonb->$1 @> $2`, top-level fields only):
-- the btree FerretDB makes for createIndexes never serves it, so a query on an indexed field scanned the whole
-- collection (0.4 s per query at 1 million documents, whatever the indexes). So the leading field of each of
-- FerretDB's btree indexes gets a GIN companion (jsonb_path_ops on the same expression, commented as such), made
-- when the btree is made and dropped when it is dropped; a query by an indexed key then takes milliseconds.
-- And since FerretDB sends the field name as a parameter, only a custom plan (made for the actual name) can use
-- those indexes: the database forces custom plans, or a connection would keep a generic plan (a full scan) once
-- Postgres had chosen it, indexes or not.

-- The backfill below says NOTICE for each index that exists already; only problems are worth printing.
SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION eventstore_ensure_id_gin(rel regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    SELECT relname INTO name FROM pg_class WHERE oid = rel;
    -- Only FerretDB's collection tables; its own metadata tables also have a _jsonb column.
    IF name LIKE '\_ferretdb\_%' OR NOT EXISTS (
        SELECT FROM pg_attribute WHERE attrelid = rel AND attname = '_jsonb' AND NOT attisdropped
    ) THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''_id'') jsonb_path_ops)',
                   left(name, 55) || '_id_gin', rel);
END
$$;

-- The field a btree index of FerretDB leads with, when it is a top-level one (`_jsonb -> 'name'::text`).
CREATE OR REPLACE FUNCTION eventstore_leading_field(idx regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT replace((regexp_match(pg_get_indexdef(idx, 1, true), '^\(_jsonb -> ''((?:[^'']|'''')+)''::text\)$'))[1],
                   '''''', '''')
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     WHERE i.indexrelid = idx AND am.amname = 'btree'
$$;

-- Make the GIN companions a collection table's btree indexes want, and drop those no btree wants any more. A
-- companion is known by its comment, 'eventstore companion of <field>'.
CREATE OR REPLACE FUNCTION eventstore_sync_field_gins(rel regclass) RETURNS void
LANGUAGE plpgsql SET client_min_messages = warning AS $$
DECLARE
    prefix constant text := 'eventstore companion of ';
    name text;
    schema text;
    wanted text[];
    field text;
    companion record;
    index_name text;
BEGIN
    SELECT c.relname, n.nspname INTO name, schema
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
    IF name IS NULL OR name LIKE '\_ferretdb\_%' OR NOT EXISTS (
        SELECT FROM pg_attribute WHERE attrelid = rel AND attname = '_jsonb' AND NOT attisdropped
    ) THEN
        RETURN;
    END IF;
    -- Not _id (it has its own), nor _ts: the event time is only ever a range or a sort, which FerretDB never hands
    -- to Postgres, so its companion served no query and cost every write.
    SELECT coalesce(array_agg(DISTINCT f), '{}') INTO wanted
      FROM (SELECT eventstore_leading_field(indexrelid::regclass) AS f FROM pg_index WHERE indrelid = rel) firsts
     WHERE f IS NOT NULL AND f NOT IN ('_id', '_ts');
    FOR companion IN
        SELECT c.relname AS index_name, substr(obj_description(c.oid, 'pg_class'), length(prefix) + 1) AS of_field
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = rel AND starts_with(coalesce(obj_description(c.oid, 'pg_class'), ''), prefix)
    LOOP
        IF NOT (companion.of_field = ANY (wanted)) THEN
            -- IF EXISTS: the drop's own trigger may have synced this table already.
            EXECUTE format('DROP INDEX IF EXISTS %I.%I', schema, companion.index_name);
        END IF;
    END LOOP;
    FOREACH field IN ARRAY wanted LOOP
        index_name := left(name, 40) || '_' || left(md5(field), 10) || '_gin';
        IF to_regclass(format('%I.%I', schema, index_name)) IS NULL THEN
            EXECUTE format('CREATE INDEX %I ON %s USING gin ((_jsonb->%L) jsonb_path_ops)', index_name, rel, field);
            EXECUTE format('COMMENT ON INDEX %I.%I IS %L', schema, index_name, prefix || field);
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION eventstore_on_create_table() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
BEGIN
    FOR obj IN SELECT objid, command_tag FROM pg_event_trigger_ddl_commands()
               WHERE command_tag IN ('CREATE TABLE', 'CREATE INDEX') AND object_type IN ('table', 'index') LOOP
        IF obj.command_tag = 'CREATE TABLE' THEN
            PERFORM eventstore_ensure_id_gin(obj.objid);
        ELSIF eventstore_leading_field(obj.objid) IS NOT NULL THEN  -- a btree of FerretDB's, not a companion
            PERFORM eventstore_sync_field_gins((SELECT indrelid FROM pg_index WHERE indexrelid = obj.objid));
        END IF;
    END LOOP;
END
$$;

-- A dropped btree (dropIndexes) takes its companion with it; a dropped table (a dropped collection) its indexes.
CREATE OR REPLACE FUNCTION eventstore_on_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    rel regclass;
BEGIN
    FOR rel IN SELECT DISTINCT c.oid::regclass FROM pg_event_trigger_dropped_objects() d
                 JOIN pg_namespace n ON n.nspname = d.schema_name
                 JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
                WHERE d.object_type = 'index' AND d.original LOOP
        PERFORM eventstore_sync_field_gins(rel);
    END LOOP;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'eventstore_id_gin') THEN
        DROP EVENT TRIGGER eventstore_id_gin;  -- made before it also watched CREATE INDEX
    END IF;
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'eventstore_gins') THEN
        CREATE EVENT TRIGGER eventstore_gins ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
            EXECUTE FUNCTION eventstore_on_create_table();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'eventstore_drop_gins') THEN
        CREATE EVENT TRIGGER eventstore_drop_gins ON sql_drop WHEN TAG IN ('DROP INDEX')
            EXECUTE FUNCTION eventstore_on_drop();
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
END
$$;

-- Collections created while the triggers were missing (an older store) get their indexes now.
SELECT eventstore_ensure_id_gin(c.oid), eventstore_sync_field_gins(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public');
