-- Up Migration

-- What a connector job reads before it calls the downstream, in one statement: the tenant context is set
-- inside (transaction-local, and the statement is its own transaction), so the read needs no BEGIN and
-- COMMIT round trips around it. It runs as the caller, under row-level security like any other read; the
-- tenant it sets is the one the caller could set with set_config anyway.
CREATE FUNCTION lanyard_connector_work_inputs(p_tenant uuid, p_user uuid, p_connector text, p_state text)
RETURNS TABLE (grants json, account json, held text[], "user" json)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('lanyard.tenant_id', p_tenant::text, true);
  RETURN QUERY SELECT
    (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'entitlement', g.entitlement, 'state', g.state, 'user_name', g.user_name, 'revoke_reason', g.revoke_reason)
                              ORDER BY g.created_at), '[]'::json)
       FROM grants g WHERE g.tenant_id = p_tenant AND g.user_id = p_user AND g.connector = p_connector AND g.state = p_state),
    (SELECT json_build_object('connector', a.connector, 'user_id', a.user_id, 'user_name', a.user_name, 'ref', a.ref, 'state', a.state, 'desired', a.desired, 'last_error', a.last_error)
       FROM connector_accounts a WHERE a.tenant_id = p_tenant AND a.connector = p_connector AND a.user_id = p_user),
    ARRAY(SELECT DISTINCT g.entitlement FROM grants g
           WHERE g.tenant_id = p_tenant AND g.user_id = p_user AND g.connector = p_connector AND g.state IN ('provisioning', 'active', 'failed', 'held')),
    (SELECT json_build_object('user_name', u.user_name, 'active', u.active, 'doc', u.doc) FROM users u WHERE u.tenant_id = p_tenant AND u.id = p_user);
END
$$;
REVOKE EXECUTE ON FUNCTION lanyard_connector_work_inputs(uuid, uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_connector_work_inputs(uuid, uuid, text, text) TO lanyard_app;

-- Down Migration
DROP FUNCTION lanyard_connector_work_inputs(uuid, uuid, text, text);
