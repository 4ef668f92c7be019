-- Up Migration

-- The tenant's contract end: no grant of the tenant outlives it.
ALTER TABLE tenants ADD COLUMN contract_ends_at timestamptz;

-- What set a grant's end (the earliest of its limits), so that only its owner can move it later: the IdP
-- for `user`, a new decision for `approval`; a package's maximum duration never renews itself.
ALTER TABLE grants
  ADD COLUMN end_bound text CHECK (end_bound IN ('package', 'user', 'contract', 'approval', 'exception')),
  ADD COLUMN approval_id uuid,
  ADD COLUMN exception_id uuid;

-- The lifecycle sweep's question, across tenants: which live grants have reached their end?
CREATE INDEX grants_due ON grants (ends_at) WHERE state IN ('provisioning', 'active', 'failed', 'held');
-- The latest expired grant of an entitlement decides whether it may be granted again.
CREATE INDEX grants_expired ON grants (tenant_id, user_id, connector, entitlement, updated_at DESC) WHERE revoke_reason = 'expired';

-- A request for a package that needs approval. The user holds nothing of the package until a request is
-- approved; the decision (who, when, why) is kept for evidence. At most one request per user and package
-- is pending.
CREATE TABLE approval_requests (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL,
  user_name        text NOT NULL,
  package          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled', 'closed')),
  -- Who may decide, resolved when the request was made: { sponsor, tenant: [...], msp: [...] }.
  approvers        jsonb NOT NULL,
  -- The names the user is known by (userName, e-mails): none of them may approve the request.
  subject_names    text[] NOT NULL,
  -- Why the access is wanted: [{ rule, ruleName, package, group }].
  reasons          jsonb NOT NULL,
  policy_version   integer,
  requested_at     timestamptz NOT NULL DEFAULT now(),
  deadline         timestamptz NOT NULL,
  decided_by       text,
  decided_at       timestamptz,
  decision_reason  text,
  -- An approval's own end: access granted through it ends then at the latest.
  ends_at          timestamptz,
  -- When the need went away (the user left the group, the policy changed): a denied or expired request
  -- stops blocking a new one only then.
  need_ended_at    timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX approval_requests_pending ON approval_requests (tenant_id, user_id, package) WHERE state = 'pending';
CREATE INDEX approval_requests_user ON approval_requests (tenant_id, user_id, package, requested_at DESC);
CREATE INDEX approval_requests_deadline ON approval_requests (deadline) WHERE state = 'pending';

-- Emergency access: a package granted to one user for hours, outside the rules and without approval, by a
-- named operator for a stated reason. Listed apart for review; never deleted.
CREATE TABLE access_exceptions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL,
  user_name   text NOT NULL,
  package     text NOT NULL,
  granted_by  text NOT NULL,
  reason      text NOT NULL,
  starts_at   timestamptz NOT NULL DEFAULT now(),
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX access_exceptions_user ON access_exceptions (tenant_id, user_id, ends_at);

SELECT lanyard_isolate_tenant(t) FROM unnest(ARRAY['approval_requests', 'access_exceptions']::regclass[]) AS t;
GRANT SELECT, INSERT, UPDATE ON approval_requests TO lanyard_app;
GRANT SELECT, INSERT ON access_exceptions TO lanyard_app;

-- The lifecycle sweep: marks for reconciliation every user with something due (a live grant at its end,
-- a pending approval past its deadline) and answers who was marked, so their reconciles can be queued.
-- State-based, so a missed run is caught up by the next, and repeating it changes nothing.
CREATE FUNCTION lanyard_mark_due(p_max integer)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
  WITH due AS (
    SELECT DISTINCT g.tenant_id, g.user_id FROM grants g
     WHERE g.ends_at <= now() AND g.state IN ('provisioning', 'active', 'failed', 'held')
    UNION
    SELECT a.tenant_id, a.user_id FROM approval_requests a WHERE a.state = 'pending' AND a.deadline <= now()
  ),
  chosen AS (SELECT * FROM due ORDER BY tenant_id, user_id LIMIT p_max)
  INSERT INTO reconcile_outbox AS o (tenant_id, user_id, cause)
  SELECT chosen.tenant_id, chosen.user_id, 'lifecycle.due' FROM chosen
  ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
  RETURNING o.tenant_id, o.user_id
$$;
REVOKE ALL ON FUNCTION lanyard_mark_due(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_mark_due(integer) TO lanyard_app;

-- Operators name an approval request by its id alone: find its tenant, then work under that tenant's
-- row-level security. Answers the tenant id only.
CREATE FUNCTION lanyard_approval_tenant(p_id uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT tenant_id FROM approval_requests WHERE id = p_id
$$;
REVOKE ALL ON FUNCTION lanyard_approval_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_approval_tenant(uuid) TO lanyard_app;

-- The mass-deprovision brake. Every deprovision the brake counts (a user losing access because the IdP or
-- the policy said so) leaves a row here; past the tenant's threshold within its window, further
-- deprovisions are held instead: their grants wait in `held`, still in place downstream, until an operator
-- releases (they are revoked) or rejects (they stay) the hold.
CREATE TABLE deprovision_log (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  user_id    uuid NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deprovision_log_recent ON deprovision_log (tenant_id, at);

CREATE TABLE deprovision_holds (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL,
  user_name        text NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'released', 'rejected', 'withdrawn')),
  -- Why access was to end: deactivated, deleted, policy…
  reason           text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  decided_by       text,
  decided_at       timestamptz,
  decision_reason  text,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX deprovision_holds_pending ON deprovision_holds (tenant_id, user_id) WHERE state = 'pending';
CREATE INDEX deprovision_holds_user ON deprovision_holds (tenant_id, user_id, created_at DESC);

ALTER TABLE grants ADD COLUMN hold_id uuid;

SELECT lanyard_isolate_tenant(t) FROM unnest(ARRAY['deprovision_log', 'deprovision_holds']::regclass[]) AS t;
GRANT SELECT, INSERT ON deprovision_log TO lanyard_app;
GRANT SELECT, INSERT, UPDATE ON deprovision_holds TO lanyard_app;

CREATE FUNCTION lanyard_hold_tenant(p_id uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT tenant_id FROM deprovision_holds WHERE id = p_id
$$;
REVOKE ALL ON FUNCTION lanyard_hold_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lanyard_hold_tenant(uuid) TO lanyard_app;
