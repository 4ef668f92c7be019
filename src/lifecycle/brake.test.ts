import { describe, expect, it } from 'vitest';
import { brakeEngaged, brakeThreshold, isBraked } from './brake.js';

const settings = { enabled: true, window: 'PT1H', minimum: 50, percent: 5 };

describe('the mass-deprovision brake', () => {
  it('allows max(minimum, percent of users) deprovisions per window', () => {
    expect(brakeThreshold(settings, 100)).toBe(50);
    expect(brakeThreshold(settings, 10_000)).toBe(500);
    expect(brakeThreshold(settings, 10_001)).toBe(501);
  });

  it('never holds a single deactivation below the threshold; holds from the threshold on', () => {
    expect(brakeEngaged(settings, { recent: 0, pendingHolds: 0, users: 1000 })).toBe(false);
    expect(brakeEngaged(settings, { recent: 49, pendingHolds: 0, users: 1000 })).toBe(false);
    expect(brakeEngaged(settings, { recent: 50, pendingHolds: 0, users: 1000 })).toBe(true);
  });

  it('stays engaged while holds wait for an operator, and never engages when disabled', () => {
    expect(brakeEngaged(settings, { recent: 0, pendingHolds: 1, users: 1000 })).toBe(true);
    expect(brakeEngaged({ ...settings, enabled: false }, { recent: 10_000, pendingHolds: 5, users: 1000 })).toBe(false);
  });

  it('counts what the IdP or the policy asked for, never planned ends or an operator’s offboarding', () => {
    expect(['deactivated', 'deleted', 'policy'].every((r) => isBraked(r as 'policy'))).toBe(true);
    expect(['expired', 'offboarded', 'operator'].some((r) => isBraked(r as 'policy'))).toBe(false);
  });
});
