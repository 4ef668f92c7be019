-- Up Migration

-- A tenant's configured connectors. `config` holds what may be shown; the secret fields are sealed
-- (AES-256-GCM under LANYARD_MASTER_KEY) in `secrets`, with the paths they came from in `secret_paths`.
CREATE TABLE connectors (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  name          text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  kind          text NOT NULL,
  config        jsonb NOT NULL,
  secrets       jsonb,
  secret_paths  text[] NOT NULL DEFAULT '{}',
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

SELECT lanyard_isolate_tenant('connectors');

GRANT SELECT, INSERT, UPDATE ON connectors TO lanyard_app;
