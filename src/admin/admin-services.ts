import type pg from 'pg';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { OperatorKeyService } from '../operators/operator-key-service.js';
import type { Runtime } from '../runtime.js';

/** What the admin API runs on: the same services as the CLI. */
export type AdminServices = Pick<Runtime, 'tenants' | 'tokens' | 'policies' | 'approvals' | 'exceptions' | 'holds' | 'connectors' | 'jobs' | 'queues'> & {
  config: Config;
  pool: pg.Pool;
  log: Logger;
  operatorKeys: OperatorKeyService;
};
