/**
 * Audit verification benchmark (`npm run bench:audit`): one tenant's chain of 1,000,000 events (override
 * with BENCH_AUDIT_EVENTS) verified against a signed checkpoint, as `lanyard audit verify` does. Prints one
 * JSON document with the time taken, its target and whether it was met.
 */
import { benchAuditVerify } from './lib/audit-verify.js';

const events = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 1_000_000);
const results = await benchAuditVerify({ events });
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
