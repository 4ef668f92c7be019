-- Up Migration

-- Users whose access must be reconciled, written in the same transaction as the change that calls for it.
-- One row per user however many changes pile up; `marked_at` moves on with every new mark, so a
-- reconcile removes the row only if nothing marked it while it ran (no lost update), and a sweep can always
-- rebuild the job queue from this table (Redis carries work, not truth).
CREATE TABLE reconcile_outbox (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  user_id    uuid NOT NULL,
  marked_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- What last asked for it, for operators: user.created, group.members_changed, policy.applied, …
  cause      text NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX reconcile_outbox_marked ON reconcile_outbox (marked_at);

SELECT lanyard_isolate_tenant('reconcile_outbox');

GRANT SELECT, INSERT, UPDATE, DELETE ON reconcile_outbox TO lanyard_app;
