-- Up Migration

-- What `lanyard status` and the /metrics scrape show, for every tenant in one set-based statement. Like the
-- sweep's functions these see past row-level security, so they answer aggregates only: counts and
-- timestamps per tenant, never a user, a token or a grant.
--
-- `last_scim_request_at` is the latest authenticated SCIM request of any of the tenant's tokens (recorded
-- at most once a minute per token), reads included: an identity provider that still reaches Lanyard with a
-- valid token is connected even when its directory had nothing to change, while an expired or revoked
-- token, or an integration switched off, lets it age. `parked_work` counts what `lanyard jobs failed` lists:
-- one per user and connector with failed grants or a failed account.
CREATE FUNCTION lanyard_tenant_status(p_slug text, p_expiring_within interval)
RETURNS TABLE (tenant_id uuid, slug text, status text, contract_ends_at timestamptz, users integer,
               active_users integer, grants jsonb, pending_approvals integer, pending_holds integer,
               parked_work integer, last_scim_request_at timestamptz, active_tokens integer,
               expiring_tokens integer, next_token_expiry timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT t.id, t.slug, t.status, t.contract_ends_at,
         COALESCE(u.users, 0)::int, COALESCE(u.active_users, 0)::int, COALESCE(g.grants, '{}'::jsonb),
         COALESCE(a.pending, 0)::int, COALESCE(h.pending, 0)::int, COALESCE(f.parked, 0)::int,
         k.last_used_at, COALESCE(k.active, 0)::int, COALESCE(k.expiring, 0)::int, k.next_expiry
    FROM tenants t
    LEFT JOIN (SELECT tenant_id, count(*) AS users, count(*) FILTER (WHERE active) AS active_users
                 FROM users GROUP BY tenant_id) u ON u.tenant_id = t.id
    LEFT JOIN (SELECT s.tenant_id, jsonb_object_agg(s.state, s.n) AS grants
                 FROM (SELECT tenant_id, state, count(*) AS n FROM grants GROUP BY tenant_id, state) s
                GROUP BY s.tenant_id) g ON g.tenant_id = t.id
    LEFT JOIN (SELECT tenant_id, count(*) AS pending FROM approval_requests WHERE state = 'pending'
                GROUP BY tenant_id) a ON a.tenant_id = t.id
    LEFT JOIN (SELECT tenant_id, count(*) AS pending FROM deprovision_holds WHERE state = 'pending'
                GROUP BY tenant_id) h ON h.tenant_id = t.id
    LEFT JOIN (SELECT w.tenant_id, count(*) AS parked
                 FROM (SELECT tenant_id, user_id, connector FROM grants WHERE state = 'failed'
                       UNION
                       SELECT tenant_id, user_id, connector FROM connector_accounts WHERE last_error IS NOT NULL) w
                GROUP BY w.tenant_id) f ON f.tenant_id = t.id
    LEFT JOIN (SELECT tenant_id, max(last_used_at) AS last_used_at,
                      count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > now()) AS active,
                      count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > now()
                                         AND expires_at <= now() + p_expiring_within) AS expiring,
                      min(expires_at) FILTER (WHERE revoked_at IS NULL AND expires_at > now()) AS next_expiry
                 FROM scim_tokens GROUP BY tenant_id) k ON k.tenant_id = t.id
   WHERE p_slug IS NULL OR t.slug = p_slug
   ORDER BY t.slug
$$;

-- The daily warning's question, kept apart from the full status so that it reads the token table only.
CREATE FUNCTION lanyard_expiring_tokens(p_within interval)
RETURNS TABLE (tenant_id uuid, slug text, expiring integer, next_expiry timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT t.id, t.slug, count(*)::int, min(s.expires_at)
    FROM scim_tokens s JOIN tenants t ON t.id = s.tenant_id
   WHERE s.revoked_at IS NULL AND s.expires_at > now() AND s.expires_at <= now() + p_within
   GROUP BY t.id, t.slug
   ORDER BY t.slug
$$;

REVOKE ALL ON FUNCTION lanyard_tenant_status(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION lanyard_expiring_tokens(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_tenant_status(text, interval) TO lanyard_app;
GRANT EXECUTE ON FUNCTION lanyard_expiring_tokens(interval) TO lanyard_app;
