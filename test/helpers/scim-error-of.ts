import { expect } from 'vitest';
import { ScimError } from '../../src/errors/scim-error.js';

/** Runs `run`, expects it to throw a ScimError and returns that error for further checks. */
export function scimErrorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ScimError);
    return err as ScimError;
  }
  throw new Error('expected a ScimError');
}
