-- Up Migration

-- A transaction's audit events are appended in one call, sent right before its COMMIT (see
-- src/store/audit-append.ts). The tenant's chain head is locked from this call until the commit, so a
-- tenant's writers queue on it for one statement and the commit, not for the whole of their transaction.
--
-- Events arrive grouped by tenant, in the order they were recorded. Each head is read once under lock,
-- advanced in memory over its events (sha256(previous hash || int8 seq || entry)) and written back once.
-- It runs with the caller's rights: row-level security applies, and the caller's role needs no more than
-- INSERT on the events and UPDATE on the heads it already has.
CREATE FUNCTION lanyard_append_audit(
  p_tenants uuid[], p_entries text[], p_occurred timestamptz[], p_actors text[], p_actions text[],
  p_types text[], p_ids text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  current_tenant uuid;
  head_seq bigint;
  head_hash bytea;
BEGIN
  FOR i IN 1 .. COALESCE(array_length(p_entries, 1), 0) LOOP
    IF current_tenant IS DISTINCT FROM p_tenants[i] THEN
      IF current_tenant IS NOT NULL THEN
        UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE tenant_id = current_tenant;
      END IF;
      SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_heads WHERE tenant_id = p_tenants[i] FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain head missing for tenant %', p_tenants[i];
      END IF;
      current_tenant := p_tenants[i];
    END IF;
    head_seq := head_seq + 1;
    head_hash := sha256(head_hash || int8send(head_seq) || convert_to(p_entries[i], 'UTF8'));
    INSERT INTO audit_events (tenant_id, seq, occurred_at, actor, action, resource_type, resource_id, entry, hash)
    VALUES (p_tenants[i], head_seq, p_occurred[i], p_actors[i], p_actions[i], p_types[i], p_ids[i], p_entries[i], head_hash);
  END LOOP;
  IF current_tenant IS NOT NULL THEN
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE tenant_id = current_tenant;
  END IF;
END
$$;

REVOKE ALL ON FUNCTION lanyard_append_audit(uuid[], text[], timestamptz[], text[], text[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_append_audit(uuid[], text[], timestamptz[], text[], text[], text[], text[]) TO lanyard_app;
