import type { Response } from 'express';

/** An RFC 9457 problem: `code` is the stable part clients branch on; `detail` is for people. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
}

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  res
    .status(problem.status)
    .set(headers)
    .type('application/problem+json')
    .send(JSON.stringify({ type: `urn:lanyard:problem:${problem.code}`, title: problem.title, status: problem.status, detail: problem.detail, code: problem.code }));
}
