import { describe, expect, it } from 'vitest';
import { mayDecide } from './may-decide.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const request = {
  state: 'pending',
  deadline: new Date('2026-11-29T12:00:00Z'),
  approvers: { routes: ['sponsor', 'tenant'] as ('sponsor' | 'tenant' | 'msp')[], sponsor: 'Sam.Sponsor@globex.example', tenant: ['ada@globex.example'], msp: ['sec@msp.example'] },
  subjectNames: ['pat@partner.example', 'pat.personal@partner.example'],
};

describe('mayDecide', () => {
  it('lets the sponsor and the tenant approvers decide, case-insensitively', () => {
    expect(mayDecide(request, 'sam.sponsor@globex.example', NOW)).toEqual({ ok: true, as: 'sponsor' });
    expect(mayDecide(request, ' ADA@globex.example ', NOW)).toEqual({ ok: true, as: 'tenant' });
  });

  it('refuses anyone off the request’s routes, naming who may decide', () => {
    const refused = mayDecide(request, 'sec@msp.example', NOW);
    expect(refused).toMatchObject({ ok: false, code: 'forbidden' });
    expect(refused.ok || refused.message).toContain('sponsor: Sam.Sponsor@globex.example; tenant approvers: ada@globex.example');
  });

  it('never lets users decide their own access, under any of their names, even when listed as approvers', () => {
    const selfListed = { ...request, approvers: { ...request.approvers, tenant: ['pat.personal@partner.example'] } };
    expect(mayDecide(selfListed, 'PAT.personal@partner.example', NOW)).toMatchObject({ ok: false, code: 'forbidden', message: expect.stringContaining('own access') });
  });

  it('refuses decisions on requests that are no longer pending or past their deadline', () => {
    expect(mayDecide({ ...request, state: 'denied' }, 'ada@globex.example', NOW)).toMatchObject({ ok: false, code: 'conflict' });
    expect(mayDecide({ ...request, deadline: NOW }, 'ada@globex.example', NOW)).toMatchObject({ ok: false, code: 'conflict' });
  });
});
