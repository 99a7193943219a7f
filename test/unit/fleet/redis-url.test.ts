// Redis URLs are shown with their password masked, wherever they are shown; a URL that does not
// parse is not echoed at all (it may be a password typed in the wrong place).

import { afterEach, describe, expect, test } from 'vitest';
import { checkRedisUrl, maskRedisUrl, maskSecrets, PASSWORD_ENV } from '../../../src/fleet/redis';
import { FleetError } from '../../../src/fleet/errors';

afterEach(() => {
  delete process.env[PASSWORD_ENV];
});

describe('Redis URLs', () => {
  test('the password is masked, the user, host, port and database are kept', () => {
    expect(maskRedisUrl('redis://:hunter2@10.0.0.5:6380/3')).toBe('redis://:***@10.0.0.5:6380/3');
    expect(maskRedisUrl('rediss://triage:p%40ss@redis.example:6379')).toBe(
      'rediss://triage:***@redis.example:6379',
    );
    expect(maskRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  test('a URL that does not parse is not echoed', () => {
    expect(maskRedisUrl('hunter2')).not.toContain('hunter2');
    expect(() => checkRedisUrl('hunter2')).toThrow(FleetError);
    try {
      checkRedisUrl('hunter2');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  test('only redis:// and rediss:// are taken, and the refusal masks the password', () => {
    expect(checkRedisUrl('rediss://h:1').protocol).toBe('rediss:');
    expect(() => checkRedisUrl('http://:pw@h:1')).toThrow(/redis:\/\/ or rediss:\/\//);
    try {
      checkRedisUrl('http://:topsecret@h:1');
    } catch (error) {
      expect((error as Error).message).not.toContain('topsecret');
    }
  });

  test('messages that quote the URL or the password (from the URL or the environment) are masked', () => {
    const url = 'redis://admin:p%40ss@h:1/0';
    expect(maskSecrets(`failed ${url} with p@ss`, url)).toBe('failed redis://admin:***@h:1/0 with ***');
    process.env[PASSWORD_ENV] = 'envsecret';
    expect(maskSecrets('AUTH envsecret failed', 'redis://h:1')).toBe('AUTH *** failed');
  });
});
