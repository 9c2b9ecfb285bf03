-- scripts/stack.d/eventstore.sql - setup of the event store's PostgreSQL database (FerretDB's storage), applied by
-- scripts/stack as the cluster's superuser on every start of the eventstore service; idempotent.
--
-- FerretDB 1.x keeps each collection in a table with one jsonb column, _jsonb, and indexes _id with a unique btree
-- on (_jsonb->'_id'). Its lookups by _id (every upsert: replaceOne/updateOne with upsert, which is what Kafka
-- Connect's MongoDB sink sends) filter with `_jsonb->'_id' @> $1`, which that btree cannot serve, so each upsert
-- scans the whole collection. A GIN index with jsonb_path_ops on the same expression serves @>. FerretDB cannot
-- create such an index itself (createIndexes makes btrees), so an event trigger adds it to every collection table
-- the moment FerretDB creates it. A production MongoDB needs nothing of this: its _id index serves upserts.

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

CREATE OR REPLACE FUNCTION eventstore_on_create_table() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
BEGIN
    FOR obj IN SELECT objid FROM pg_event_trigger_ddl_commands()
               WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
        PERFORM eventstore_ensure_id_gin(obj.objid);
    END LOOP;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'eventstore_id_gin') THEN
        CREATE EVENT TRIGGER eventstore_id_gin ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
            EXECUTE FUNCTION eventstore_on_create_table();
    END IF;
END
$$;

-- Collections created while the trigger was missing (an older store) get the index now.
SELECT eventstore_ensure_id_gin(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public');
