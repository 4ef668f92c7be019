import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../audit/audit-event.js';
import { writeWithAudit } from '../audit/record-audit-event.js';
import type { Queryable } from './pool.js';
import type { Tx } from './transaction.js';

export interface ExceptionGrant {
  id: string;
  userId: string;
  userName: string;
  package: string;
  grantedBy: string;
  reason: string;
  startsAt: Date;
  endsAt: Date;
}

interface Row {
  id: string;
  user_id: string;
  user_name: string;
  package: string;
  granted_by: string;
  reason: string;
  starts_at: Date;
  ends_at: Date;
}

const toException = (r: Row): ExceptionGrant => ({ id: r.id, userId: r.user_id, userName: r.user_name, package: r.package, grantedBy: r.granted_by, reason: r.reason, startsAt: r.starts_at, endsAt: r.ends_at });

export async function insertException(db: Tx, tenantId: string, x: Omit<ExceptionGrant, 'id' | 'startsAt'> & { startsAt: Date }, event: Omit<AuditEventInput, 'resourceId'>): Promise<ExceptionGrant> {
  const id = randomUUID();
  const [row] = await writeWithAudit<Row>(
    db,
    tenantId,
    {
      text: `INSERT INTO access_exceptions (tenant_id, id, user_id, user_name, package, granted_by, reason, starts_at, ends_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, user_id, user_name, package, granted_by, reason, starts_at, ends_at`,
      values: [tenantId, id, x.userId, x.userName, x.package, x.grantedBy, x.reason, x.startsAt, x.endsAt],
    },
    { ...event, resourceId: id },
  );
  return toException(row!);
}

export async function listExceptions(db: Queryable, tenantId: string, opts: { activeAt?: Date; limit: number }): Promise<ExceptionGrant[]> {
  return (await pageExceptions(db, tenantId, { ...opts, before: null })).map((r) => r.record);
}

/** Newest first, after `before` (starts_at to the microsecond, then id), as the admin API pages them. */
export async function pageExceptions(
  db: Queryable,
  tenantId: string,
  opts: { activeAt?: Date | undefined; limit: number; before: { at: string; id: string } | null },
): Promise<{ record: ExceptionGrant; pageKey: [string, string] }[]> {
  const { rows } = await db.query<Row & { page_key: string }>(
    `SELECT id, user_id, user_name, package, granted_by, reason, starts_at, ends_at,
            to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_key
       FROM access_exceptions
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR ends_at > $2)
        AND ($4::timestamptz IS NULL OR (starts_at, id) < ($4::timestamptz, $5::uuid))
      ORDER BY starts_at DESC, id DESC LIMIT $3`,
    [tenantId, opts.activeAt ?? null, opts.limit, opts.before?.at ?? null, opts.before?.id ?? null],
  );
  return rows.map((r) => ({ record: toException(r), pageKey: [r.page_key, r.id] }));
}
