-- Up Migration

-- Every policy a tenant ever had: the source as applied, who applied it and when. The newest is in force.
CREATE TABLE policy_versions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  version     integer NOT NULL CHECK (version > 0),
  source      text NOT NULL,
  -- The validated document, as evaluation reads it.
  document    jsonb NOT NULL,
  applied_by  text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

-- One entitlement held by one user through one connector. Grants are the evidence of who held what, why,
-- from when and until when: they are never deleted, and they outlive the user (no foreign key to users).
CREATE TABLE grants (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL,
  -- The user's name when the grant was made, so evidence stays readable after the user is deleted.
  user_name       text NOT NULL,
  connector       text NOT NULL,
  entitlement     text NOT NULL,
  state           text NOT NULL CHECK (state IN ('requested', 'awaiting_approval', 'provisioning', 'active',
                                                 'revoking', 'revoked', 'failed', 'held')),
  -- Why: [{ rule, ruleName, package, group }] from the policy evaluation.
  reasons         jsonb NOT NULL,
  policy_version  integer,
  starts_at       timestamptz,
  ends_at         timestamptz,
  revoke_reason   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- At most one live grant per user and entitlement; ended ones accumulate as history.
CREATE UNIQUE INDEX grants_live ON grants (tenant_id, user_id, connector, entitlement)
  WHERE state IN ('requested', 'awaiting_approval', 'provisioning', 'active', 'failed', 'held');
CREATE INDEX grants_user ON grants (tenant_id, user_id);

SELECT lanyard_isolate_tenant(t) FROM unnest(ARRAY['policy_versions', 'grants']::regclass[]) AS t;

GRANT SELECT, INSERT ON policy_versions TO lanyard_app;
-- Grants change state but are never removed.
GRANT SELECT, INSERT, UPDATE ON grants TO lanyard_app;
