import { describe, expect, it } from 'vitest';
import { isInfrastructureFailure } from './infrastructure.js';

function withCode(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isInfrastructureFailure', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])('is true for network error %s', (code) => {
    expect(isInfrastructureFailure(withCode(code))).toBe(true);
  });

  it('is true for an AggregateError carrying ECONNREFUSED, as Node reports a refused dual-stack connect', () => {
    expect(isInfrastructureFailure(Object.assign(new AggregateError([withCode('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it.each([
    ['57P01', 'admin_shutdown'],
    ['57P03', 'cannot_connect_now'],
    ['08006', 'connection_failure'],
    ['08003', 'connection_does_not_exist'],
    ['53300', 'too_many_connections'],
    ['53100', 'disk_full'],
    ['55000', 'object_not_in_prerequisite_state'],
    ['57014', 'query_canceled (statement_timeout)'],
    ['58000', 'system_error'],
  ])('is true for SQLSTATE %s (%s)', (code) => {
    expect(isInfrastructureFailure(withCode(code))).toBe(true);
  });

  it.each([
    ['23505', 'unique_violation'],
    ['42P01', 'undefined_table'],
    ['22P02', 'invalid_text_representation'],
    ['40001', 'serialization_failure'],
    ['55P03', 'lock_not_available'],
    ['23503', 'foreign_key_violation'],
  ])('is false for SQLSTATE %s (%s)', (code) => {
    expect(isInfrastructureFailure(withCode(code))).toBe(false);
  });

  it('is false for plain errors and non-errors', () => {
    expect(isInfrastructureFailure(new Error('boom'))).toBe(false);
    expect(isInfrastructureFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isInfrastructureFailure({ code: 'ECONNREFUSED', message: 'Connection terminated' })).toBe(false);
    expect(isInfrastructureFailure('ECONNREFUSED')).toBe(false);
    expect(isInfrastructureFailure(undefined)).toBe(false);
    expect(isInfrastructureFailure(withCode('ENOENT'))).toBe(false);
  });

  it.each([
    'timeout exceeded when trying to connect',
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'Client has encountered a connection error and is not queryable',
    'Connection is closed.',
  ])('is true for the node-postgres / ioredis message %j', (message) => {
    expect(isInfrastructureFailure(new Error(message))).toBe(true);
  });
});
