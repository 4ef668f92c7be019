import type { Queryable } from './pool.js';

export interface PolicyVersion {
  version: number;
  source: string;
  document: unknown;
  appliedBy: string;
  appliedAt: Date;
}

interface PolicyRow {
  version: number;
  source: string;
  document: unknown;
  applied_by: string;
  applied_at: Date;
}

const toVersion = (r: PolicyRow): PolicyVersion => ({ version: r.version, source: r.source, document: r.document, appliedBy: r.applied_by, appliedAt: r.applied_at });

export async function currentPolicy(db: Queryable, tenantId: string): Promise<PolicyVersion | null> {
  const { rows } = await db.query<PolicyRow>(
    'SELECT version, source, document, applied_by, applied_at FROM policy_versions WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1',
    [tenantId],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

/** Stores the next version; the caller holds the tenant row lock, so versions never race. */
export async function insertPolicyVersion(
  db: Queryable,
  tenantId: string,
  policy: { source: string; document: unknown; appliedBy: string },
): Promise<PolicyVersion> {
  const { rows } = await db.query<PolicyRow>(
    `INSERT INTO policy_versions (tenant_id, version, source, document, applied_by)
     SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4 FROM policy_versions WHERE tenant_id = $1
     RETURNING version, source, document, applied_by, applied_at`,
    [tenantId, policy.source, JSON.stringify(policy.document), policy.appliedBy],
  );
  return toVersion(rows[0]!);
}
