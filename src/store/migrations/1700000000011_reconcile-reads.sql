-- Up Migration

-- Every reconcile reads a user's accounts on all connectors; the primary key (tenant, connector, user)
-- cannot serve that, and without this index each reconcile scanned the tenant's accounts.
CREATE INDEX connector_accounts_user ON connector_accounts (tenant_id, user_id);

-- The sweep re-queues a marked user on the lane its mark asked for, so that work still waiting in the
-- priority lane is not queued a second time on the other one. The answer now carries the mark's cause.
DROP FUNCTION lanyard_due_reconciles(interval, integer);
CREATE FUNCTION lanyard_due_reconciles(p_grace interval, p_max integer)
RETURNS TABLE (tenant_id uuid, user_id uuid, cause text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT o.tenant_id, o.user_id, o.cause FROM reconcile_outbox o
   WHERE o.marked_at < clock_timestamp() - p_grace
   ORDER BY o.marked_at
   LIMIT p_max
$$;
REVOKE ALL ON FUNCTION lanyard_due_reconciles(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_due_reconciles(interval, integer) TO lanyard_app;
