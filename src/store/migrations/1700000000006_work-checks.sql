-- Up Migration

-- The check a worker makes after each job (is there more for this user?), in one round trip instead of a
-- transaction: it runs once per job. Like the sweep's functions, these see past row-level security and
-- answer booleans only.
CREATE FUNCTION lanyard_is_marked(p_tenant uuid, p_user uuid)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM reconcile_outbox WHERE tenant_id = p_tenant AND user_id = p_user)
$$;

CREATE FUNCTION lanyard_pending_lanes(p_tenant uuid, p_user uuid, p_connector text, OUT grant_lane boolean, OUT revoke_lane boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT COALESCE(bool_or(lane = 'grant'), false), COALESCE(bool_or(lane = 'revoke'), false) FROM (
    SELECT CASE state WHEN 'revoking' THEN 'revoke' ELSE 'grant' END AS lane FROM grants
     WHERE tenant_id = p_tenant AND user_id = p_user AND connector = p_connector AND state IN ('provisioning', 'revoking')
    UNION ALL
    SELECT CASE desired WHEN 'active' THEN 'grant' ELSE 'revoke' END FROM connector_accounts
     WHERE tenant_id = p_tenant AND user_id = p_user AND connector = p_connector AND state <> desired AND last_error IS NULL
  ) w
$$;

REVOKE ALL ON FUNCTION lanyard_is_marked(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION lanyard_pending_lanes(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_is_marked(uuid, uuid) TO lanyard_app;
GRANT EXECUTE ON FUNCTION lanyard_pending_lanes(uuid, uuid, text) TO lanyard_app;
