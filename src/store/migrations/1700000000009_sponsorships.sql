-- Up Migration

-- Who sponsors each partner user, as the user's last reconcile resolved it (the sponsor attribute may come
-- from the Lanyard extension or from wherever the policy maps it), so that a change to a sponsor finds
-- the users it sponsors. When the sponsor lapses (deactivated, deleted, attribute cleared), the lapse is
-- dated here; the user's access is revoked at `revoke_at`, after the policy's grace period.
CREATE TABLE sponsorships (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  user_id       uuid NOT NULL,
  -- lower(userName) of the sponsor; null when the user names none.
  sponsor       text,
  lapsed_since  timestamptz,
  revoke_at     timestamptz,
  -- The revocation the lapse called for has been made: nothing more is due for it.
  ended         boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX sponsorships_sponsor ON sponsorships (tenant_id, sponsor);
CREATE INDEX sponsorships_due ON sponsorships (revoke_at) WHERE NOT ended;

SELECT lanyard_isolate_tenant('sponsorships');
GRANT SELECT, INSERT, UPDATE, DELETE ON sponsorships TO lanyard_app;

-- The lifecycle sweep also finds users whose sponsor's grace period is over.
CREATE OR REPLACE FUNCTION lanyard_mark_due(p_max integer)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
  WITH due AS (
    SELECT DISTINCT g.tenant_id, g.user_id FROM grants g
     WHERE g.ends_at <= now() AND g.state IN ('provisioning', 'active', 'failed', 'held')
    UNION
    SELECT a.tenant_id, a.user_id FROM approval_requests a WHERE a.state = 'pending' AND a.deadline <= now()
    UNION
    SELECT s.tenant_id, s.user_id FROM sponsorships s WHERE s.revoke_at <= now() AND NOT s.ended
  ),
  chosen AS (SELECT * FROM due ORDER BY tenant_id, user_id LIMIT p_max)
  INSERT INTO reconcile_outbox AS o (tenant_id, user_id, cause)
  SELECT chosen.tenant_id, chosen.user_id, 'lifecycle.due' FROM chosen
  ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
  RETURNING o.tenant_id, o.user_id
$$;
