import type { Response } from 'express';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function sendScim(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.status(status).set({ 'Content-Type': SCIM_CONTENT_TYPE, ...headers }).send(JSON.stringify(body));
}
