-- Up Migration

-- The role the service's requests run as. It owns nothing and is subject to row-level security, so a
-- query that forgets its tenant sees no rows instead of every tenant's rows. Several Lanyard databases
-- may share one cluster, hence the tolerant creation.
DO $$
BEGIN
  CREATE ROLE lanyard_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
GRANT lanyard_app TO CURRENT_USER;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'offboarded')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scim_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  -- sha256 of the secret part; the token itself is shown once and never stored.
  secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoked_by    text,
  last_used_at  timestamptz,
  CHECK (expires_at > created_at)
);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id, created_at);

CREATE TABLE users (
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Stable, index-friendly order for paging; ids are random.
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  user_name    text NOT NULL,
  -- lower(user_name), for case-insensitive lookups an index can serve under row-level security.
  user_name_folded text GENERATED ALWAYS AS (lower(user_name)) STORED,
  external_id  text,
  active       boolean NOT NULL,
  -- The SCIM attributes as last written by the IdP, minus id, meta, schemas, groups and password.
  doc          jsonb NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_user_name_key ON users (tenant_id, user_name_folded);
CREATE UNIQUE INDEX users_seq ON users (tenant_id, seq);
CREATE INDEX users_external_id ON users (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE groups (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  display_name  text NOT NULL,
  display_name_folded text GENERATED ALWAYS AS (lower(display_name)) STORED,
  external_id   text,
  doc           jsonb NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_key ON groups (tenant_id, display_name_folded);
CREATE UNIQUE INDEX groups_seq ON groups (tenant_id, seq);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id) WHERE external_id IS NOT NULL;

-- The composite keys make a cross-tenant membership impossible, whatever the application does.
CREATE TABLE group_members (
  tenant_id   uuid NOT NULL,
  group_id    uuid NOT NULL,
  user_id     uuid NOT NULL,
  -- The label the IdP sent with the reference, if any; shown as the member's `display`.
  display     text,
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, group_id, user_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (tenant_id, user_id);

-- Hash-chained audit trail. Each tenant's chain head is one row, updated in the same transaction as the
-- event it covers, so events are sequenced in commit order with no gaps.
CREATE TABLE audit_chain_heads (
  tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
  seq        bigint NOT NULL,
  hash       bytea NOT NULL
);

CREATE TABLE audit_events (
  tenant_id      uuid NOT NULL REFERENCES tenants (id),
  seq            bigint NOT NULL,
  occurred_at    timestamptz NOT NULL,
  actor          text NOT NULL,
  action         text NOT NULL,
  resource_type  text NOT NULL,
  resource_id    text,
  -- The canonical JSON of the event: exactly the bytes the hash covers. The columns above are copies
  -- for querying; verification checks they agree with it.
  entry          text NOT NULL,
  -- sha256(previous hash || int8 seq || entry)
  hash           bytea NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_type, resource_id);

-- Row-level security: a tenant-scoped table answers only for the tenant named by the transaction-local
-- setting lanyard.tenant_id, and FORCE makes that apply to the table owner too. Every later migration
-- that adds a tenant-scoped table calls this, so the policy is written once.
CREATE FUNCTION lanyard_isolate_tenant(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
    USING (tenant_id = NULLIF(current_setting('lanyard.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('lanyard.tenant_id', true), '')::uuid)$p$, t);
END
$$;
REVOKE EXECUTE ON FUNCTION lanyard_isolate_tenant(regclass) FROM PUBLIC;

SELECT lanyard_isolate_tenant(t)
  FROM unnest(ARRAY['scim_tokens', 'users', 'groups', 'group_members', 'audit_chain_heads', 'audit_events']::regclass[]) AS t;

GRANT USAGE ON SCHEMA public TO lanyard_app;
GRANT SELECT, INSERT, UPDATE ON tenants TO lanyard_app;
GRANT SELECT, INSERT, UPDATE ON scim_tokens TO lanyard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, groups, group_members TO lanyard_app;
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO lanyard_app;
-- Append-only: the service can add and read events, never change or remove them.
GRANT SELECT, INSERT ON audit_events TO lanyard_app;

-- Authentication runs before the request knows its tenant: resolve the slug, then read the one token
-- under that tenant's row-level-security context. The hash is compared by the caller in constant time.
CREATE FUNCTION scim_token_lookup(p_slug text, p_token_id uuid)
RETURNS TABLE (tenant_id uuid, tenant_status text, secret_hash bytea, expires_at timestamptz,
               revoked_at timestamptz, last_used_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_tenant tenants%ROWTYPE;
BEGIN
  SELECT * INTO v_tenant FROM tenants WHERE slug = p_slug;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM set_config('lanyard.tenant_id', v_tenant.id::text, true);
  RETURN QUERY
    SELECT v_tenant.id, v_tenant.status, s.secret_hash, s.expires_at, s.revoked_at, s.last_used_at
      FROM scim_tokens s
     WHERE s.id = p_token_id AND s.tenant_id = v_tenant.id;
END
$$;
GRANT EXECUTE ON FUNCTION scim_token_lookup(text, uuid) TO lanyard_app;
