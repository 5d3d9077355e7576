-- chainaudit reference schema for PostgreSQL, version 1 (docs/stores.md, STORE-3).
--
-- Created by chainaudit.sources.postgres.create_schema(conn) in the first
-- schema of the connection's search_path. Idempotent: every statement may
-- run again on a database that already has the schema.
--
-- Key columns use COLLATE "C" so that ORDER BY compares UTF-8 bytes, the
-- same order DynamoDB gives sort keys: a chain read from either store
-- arrives in the same order (STORE-6).

CREATE TABLE IF NOT EXISTS chainaudit_schema (
    version integer PRIMARY KEY
);
INSERT INTO chainaudit_schema (version) VALUES (1) ON CONFLICT DO NOTHING;

-- One row per entity item (MODEL, ADDR-4). The physical key is the
-- canonical address split into three columns; meta has subkey ''.
-- attributes: the cleartext attributes in DynamoDB's typed JSON form
-- ({"S": ...}, {"N": "1.5"}, {"B": "<base64>"}, ...), without pk/sk and
-- without the envelope attributes, which have their own columns.
-- envelope_version NULL means the attribute is absent, i.e. version 1.
CREATE TABLE IF NOT EXISTS entities (
    dialogue_id       text COLLATE "C" NOT NULL,
    entity_type       text COLLATE "C" NOT NULL,
    subkey            text COLLATE "C" NOT NULL,
    attributes        jsonb NOT NULL DEFAULT '{}'::jsonb,
    content_encrypted bytea,
    content_nonce     bytea,
    key_id            text,
    aad_hash          text,
    envelope_version  integer,
    PRIMARY KEY (dialogue_id, entity_type, subkey),
    -- ENV-2: an envelope is all four attributes or none.
    CONSTRAINT entities_envelope_whole CHECK (
        (content_encrypted IS NULL) = (content_nonce IS NULL)
        AND (content_encrypted IS NULL) = (key_id IS NULL)
        AND (content_encrypted IS NULL) = (aad_hash IS NULL)
        AND (envelope_version IS NULL OR content_encrypted IS NOT NULL)
    ),
    CONSTRAINT entities_attributes_object CHECK (jsonb_typeof(attributes) = 'object')
);

-- One row per wrapped data key (KEY-4). After crypto-shredding (KEY-6)
-- state is 'destroyed' and wrapped_key is NULL; the row stays.
CREATE TABLE IF NOT EXISTS wrapped_deks (
    dialogue_id  text COLLATE "C" NOT NULL,
    version      bigint NOT NULL CHECK (version > 0),
    key_id       text NOT NULL,
    owner        text NOT NULL,
    wrap_alg     text NOT NULL,
    wrapped_key  bytea,
    wrap_nonce   bytea,
    state        text NOT NULL CHECK (state IN ('active', 'retired', 'destroyed')),
    created_at   text NOT NULL,
    destroyed_at text,
    PRIMARY KEY (dialogue_id, version)
);

-- One row per event of the crypto audit log (CHAIN-2). fields holds every
-- stored field as plain JSON (strings, integers, null), event_id included.
-- Rows are ordered by event_id (UUIDv7, time-ordered), exactly like the
-- DynamoDB sort key event#{event_id}.
CREATE TABLE IF NOT EXISTS audit_events (
    chain_id text COLLATE "C" NOT NULL,
    event_id text COLLATE "C" NOT NULL,
    fields   jsonb NOT NULL,
    PRIMARY KEY (chain_id, event_id),
    CONSTRAINT audit_events_fields_object CHECK (jsonb_typeof(fields) = 'object'),
    CONSTRAINT audit_events_event_id CHECK (fields ->> 'event_id' = event_id)
);

-- STORE-4: audit storage is append-only, enforced by the database itself,
-- not by the good manners of clients. UPDATE, DELETE and TRUNCATE of the
-- audit log, and UPDATE or DELETE of lifecycle event entities, raise.
CREATE OR REPLACE FUNCTION chainaudit_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'chainaudit: % on %.% is not allowed: audit records are append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION chainaudit_reject_change();

DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION chainaudit_reject_change();

DROP TRIGGER IF EXISTS entities_events_append_only ON entities;
CREATE TRIGGER entities_events_append_only
    BEFORE UPDATE OR DELETE ON entities
    FOR EACH ROW WHEN (OLD.entity_type = 'event')
    EXECUTE FUNCTION chainaudit_reject_change();
