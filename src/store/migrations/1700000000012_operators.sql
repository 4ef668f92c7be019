-- Up Migration

-- Operator API keys for the admin API. They belong to the MSP, not to a tenant, so these tables have no
-- row-level security (operator_key_tenants names tenants, but as the MSP's record of which tenants a key
-- may administer, read before any tenant is known); what protects them is that lanyard_app gets only the columns and
-- verbs it needs. Like SCIM tokens, a key is shown once and only the sha256 of its secret is kept.
CREATE TABLE operator_keys (
  id            uuid PRIMARY KEY,
  -- Appears in actor strings (`operator:key:<name>`) and logs, hence the plain character set.
  name          text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$'),
  role          text NOT NULL CHECK (role IN ('msp-admin', 'tenant-admin', 'auditor')),
  secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoked_by    text,
  last_used_at  timestamptz,
  -- No key is unbounded, whatever OPERATOR_KEY_MAX_TTL says (its own limit is lower).
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '365 days'),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX operator_keys_created ON operator_keys (created_at, id);

-- The tenants a tenant-admin key may administer. Keys of the other roles have no rows here.
CREATE TABLE operator_key_tenants (
  key_id     uuid NOT NULL REFERENCES operator_keys (id),
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  PRIMARY KEY (key_id, tenant_id)
);

-- MSP-level events about operator identities (every key created or revoked, whatever its role). Events of
-- keys scoped to tenants are also recorded in each of those tenants' hash chains, in the same transaction.
CREATE TABLE operator_events (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  actor          text NOT NULL,
  action         text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  resource_type  text NOT NULL,
  resource_id    text,
  -- Ids, names and counts only, never a secret.
  detail         jsonb NOT NULL DEFAULT '{}'
);

-- The service may create keys (never choosing their creation time), read them, and change only what
-- revoking and recording use touch: a key's role, hash and expiry are fixed once written, and no key row
-- is ever deleted, so the list stays the record of who could act.
GRANT SELECT ON operator_keys TO lanyard_app;
GRANT INSERT (id, name, role, secret_hash, created_by, expires_at) ON operator_keys TO lanyard_app;
GRANT UPDATE (revoked_at, revoked_by, last_used_at) ON operator_keys TO lanyard_app;
GRANT SELECT, INSERT ON operator_key_tenants TO lanyard_app;
-- Append-only: the service can add and read events, never change or remove them (nor choose their time).
GRANT SELECT ON operator_events TO lanyard_app;
GRANT INSERT (actor, action, resource_type, resource_id, detail) ON operator_events TO lanyard_app;
