-- Up Migration

-- What the last failed attempt on a grant said, for operators (`lanyard jobs failed`). Free of secrets:
-- connectors keep their error messages clean.
ALTER TABLE grants ADD COLUMN last_error text;
-- Grants the pipeline still has to carry out; the sweep finds the ones whose job was lost.
CREATE INDEX grants_in_flight ON grants (updated_at) WHERE state IN ('provisioning', 'revoking');
CREATE INDEX grants_failed ON grants (tenant_id, updated_at) WHERE state = 'failed';

-- What a DELETE from the IdP does to the user's downstream account on this connector: remove it where the
-- connector can, or keep it disabled (some downstreams must keep the record).
ALTER TABLE connectors ADD COLUMN on_delete text NOT NULL DEFAULT 'remove' CHECK (on_delete IN ('remove', 'disable'));

-- A user's account in one connector's downstream system. `desired` is what the last reconcile wants,
-- `state` what the downstream was last brought to; they differ while work is pending. Rows are kept after
-- removal, as evidence that the account existed.
CREATE TABLE connector_accounts (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  connector   text NOT NULL,
  user_id     uuid NOT NULL,
  user_name   text NOT NULL,
  -- How the downstream knows the account (the connector's AccountRef id).
  ref         text NOT NULL,
  state       text NOT NULL CHECK (state IN ('active', 'disabled', 'removed')),
  desired     text NOT NULL CHECK (desired IN ('active', 'disabled', 'removed')),
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, connector, user_id),
  FOREIGN KEY (tenant_id, connector) REFERENCES connectors (tenant_id, name)
);
CREATE INDEX connector_accounts_pending ON connector_accounts (updated_at) WHERE state <> desired AND last_error IS NULL;

SELECT lanyard_isolate_tenant('connector_accounts');
GRANT SELECT, INSERT, UPDATE ON connector_accounts TO lanyard_app;

-- The sweep works across tenants: these functions are its only window past row-level security, and they
-- return identifiers only. Both skip work marked or changed within `p_grace`, which the after-commit
-- enqueue is still handling.
CREATE FUNCTION lanyard_due_reconciles(p_grace interval, p_max integer)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT o.tenant_id, o.user_id FROM reconcile_outbox o
   WHERE o.marked_at < clock_timestamp() - p_grace
   ORDER BY o.marked_at
   LIMIT p_max
$$;

-- One row per user and connector with downstream work left; `lane` is 'revoke' when any of it takes
-- access away, so revocations go to their own queue.
CREATE FUNCTION lanyard_due_connector_work(p_grace interval, p_max integer)
RETURNS TABLE (tenant_id uuid, connector text, user_id uuid, lane text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT w.tenant_id, w.connector, w.user_id, CASE WHEN bool_or(w.revoke) THEN 'revoke' ELSE 'grant' END
    FROM (
      SELECT g.tenant_id, g.connector, g.user_id, g.state = 'revoking' AS revoke FROM grants g
       WHERE g.state IN ('provisioning', 'revoking') AND g.updated_at < clock_timestamp() - p_grace
      UNION ALL
      SELECT a.tenant_id, a.connector, a.user_id, a.desired <> 'active' FROM connector_accounts a
       WHERE a.state <> a.desired AND a.last_error IS NULL AND a.updated_at < clock_timestamp() - p_grace
    ) w
   GROUP BY w.tenant_id, w.connector, w.user_id
   LIMIT p_max
$$;

REVOKE ALL ON FUNCTION lanyard_due_reconciles(interval, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION lanyard_due_connector_work(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_due_reconciles(interval, integer) TO lanyard_app;
GRANT EXECUTE ON FUNCTION lanyard_due_connector_work(interval, integer) TO lanyard_app;
