/** Lanyard's own actions in the audit trail. */
export const SYSTEM_ACTOR = 'system:reconcile';

/** How the workers' transactions run: see TxOptions. */
export const WORKER_TX = { asyncCommit: true, deadlockRetries: 3 } as const;
