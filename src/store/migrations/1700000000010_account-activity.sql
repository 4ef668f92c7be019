-- Up Migration

-- The latest activity a connector has reported for an account, kept as the maximum ever seen: connectors
-- report what they can see now (the postgres connector: open sessions only), and a later answer may know
-- less than an earlier one.
ALTER TABLE connector_accounts
  ADD COLUMN last_activity_at timestamptz,
  ADD COLUMN activity_checked_at timestamptz;

-- An account whose activity is due for a check, across tenants (for the inactivity schedule).
CREATE INDEX connector_accounts_activity ON connector_accounts (activity_checked_at NULLS FIRST) WHERE state = 'active';

-- Accounts to ask about, across tenants: active accounts on the given connectors (tenant and connector
-- name, pairwise) not checked since p_before, least recently checked first.
CREATE FUNCTION lanyard_activity_due(p_tenants uuid[], p_connectors text[], p_before timestamptz, p_max integer)
RETURNS TABLE (tenant_id uuid, user_id uuid, connector text, ref text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT a.tenant_id, a.user_id, a.connector, a.ref FROM connector_accounts a
    JOIN unnest(p_tenants, p_connectors) AS c (tenant_id, connector) ON c.tenant_id = a.tenant_id AND c.connector = a.connector
   WHERE a.state = 'active' AND (a.activity_checked_at IS NULL OR a.activity_checked_at < p_before)
   ORDER BY a.activity_checked_at NULLS FIRST LIMIT p_max
$$;
REVOKE ALL ON FUNCTION lanyard_activity_due(uuid[], text[], timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_activity_due(uuid[], text[], timestamptz, integer) TO lanyard_app;
