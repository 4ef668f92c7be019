import type { Queryable } from './pool.js';

export interface ConnectorRecord {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  secrets: unknown;
  secretPaths: string[];
  /** What a DELETE from the IdP does to the user's account here. */
  onDelete: OnDelete;
  createdBy: string;
  createdAt: Date;
}

export type OnDelete = 'remove' | 'disable';

interface ConnectorRow {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  secrets: unknown;
  secret_paths: string[];
  on_delete: OnDelete;
  created_by: string;
  created_at: Date;
}

const COLUMNS = 'name, kind, config, secrets, secret_paths, on_delete, created_by, created_at';
const toRecord = (r: ConnectorRow): ConnectorRecord => ({
  name: r.name,
  kind: r.kind,
  config: r.config,
  secrets: r.secrets,
  secretPaths: r.secret_paths,
  onDelete: r.on_delete,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export async function insertConnector(
  db: Queryable,
  tenantId: string,
  c: { name: string; kind: string; config: Record<string, unknown>; secrets: unknown; secretPaths: string[]; onDelete: OnDelete; createdBy: string },
): Promise<ConnectorRecord | null> {
  const { rows } = await db.query<ConnectorRow>(
    `INSERT INTO connectors (tenant_id, name, kind, config, secrets, secret_paths, on_delete, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, c.name, c.kind, c.config, c.secrets === null ? null : JSON.stringify(c.secrets), c.secretPaths, c.onDelete, c.createdBy],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function findConnector(db: Queryable, tenantId: string, name: string): Promise<ConnectorRecord | null> {
  const { rows } = await db.query<ConnectorRow>(`SELECT ${COLUMNS} FROM connectors WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listConnectors(db: Queryable, tenantId: string): Promise<ConnectorRecord[]> {
  const { rows } = await db.query<ConnectorRow>(`SELECT ${COLUMNS} FROM connectors WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
  return rows.map(toRecord);
}

/** Replaces a connector's configuration (kind stays); answers the record, or null when there is none. */
export async function updateConnector(
  db: Queryable,
  tenantId: string,
  c: { name: string; config: Record<string, unknown>; secrets: unknown; secretPaths: string[]; onDelete: OnDelete },
): Promise<ConnectorRecord | null> {
  const { rows } = await db.query<ConnectorRow>(
    `UPDATE connectors SET config = $3, secrets = $4, secret_paths = $5, on_delete = $6 WHERE tenant_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
    [tenantId, c.name, c.config, c.secrets === null ? null : JSON.stringify(c.secrets), c.secretPaths, c.onDelete],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** What names a connector: grants and accounts, which are kept as evidence and so keep it registered. */
export async function connectorUsage(db: Queryable, tenantId: string, name: string): Promise<{ grants: number; accounts: number }> {
  const { rows } = await db.query<{ grants: number; accounts: number }>(
    `SELECT (SELECT count(*)::int FROM grants WHERE tenant_id = $1 AND connector = $2) AS grants,
            (SELECT count(*)::int FROM connector_accounts WHERE tenant_id = $1 AND connector = $2) AS accounts`,
    [tenantId, name],
  );
  return rows[0]!;
}

export async function deleteConnector(db: Queryable, tenantId: string, name: string): Promise<void> {
  await db.query('DELETE FROM connectors WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
}
