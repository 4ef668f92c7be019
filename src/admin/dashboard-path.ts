/** Where the queue dashboard lives, below /admin/v1. */
export const DASHBOARD_PATH = '/queues';
