import type { Response } from 'express';

/** An RFC 9457 problem: `code` is the stable part clients branch on; `detail` is for people. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  /** Each invalid part of a request, when the request was refused for its shape. */
  errors?: { path: string; message: string }[];
}

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  const { status, code, title, detail, errors } = problem;
  res
    .status(status)
    .set(headers)
    .type('application/problem+json')
    .send(JSON.stringify({ type: `urn:lanyard:problem:${code}`, title, status, detail, code, ...(errors ? { errors } : {}) }));
}
