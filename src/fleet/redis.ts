// Redis connections for the fleet: redis:// and rediss:// (TLS) URLs, a password in the URL or in
// IRPSCOPE_REDIS_PASSWORD (kept out of the process list), and a URL shown only with its password
// masked — in output, logs and errors alike.

import { Redis, type RedisOptions } from 'ioredis';
import { FleetError } from './errors';

export const PASSWORD_ENV = 'IRPSCOPE_REDIS_PASSWORD';

/** The URL with its password (and nothing else) replaced by ***; a URL that does not parse is not echoed. */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a Redis URL that does not parse)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Every occurrence of the URL's password in `text` masked (error messages that quote it). */
export function maskSecrets(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Nothing to mask from a URL that does not parse.
  }
  const secrets = [password, process.env[PASSWORD_ENV] ?? ''].filter((s) => s.length > 0);
  return secrets.reduce(
    (out, secret) => out.split(secret).join('***'),
    text.split(url).join(maskRedisUrl(url)),
  );
}

export function checkRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FleetError(
      '--redis must be a URL: redis://[user:password@]host[:port][/db] or rediss://… for TLS',
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new FleetError(
      `--redis must be a redis:// or rediss:// URL, not ${parsed.protocol}// (${maskRedisUrl(url)})`,
    );
  return parsed;
}

export interface ConnectOptions {
  /**
   * A worker retries for ever (Redis restarting is weather); a command gives up after a few
   * tries and says so.
   */
  persistent: boolean;
  name?: string;
}

/** An ioredis connection as BullMQ wants it (no per-request retry limit: it waits for Redis). */
export function redisConnection(url: string, options: ConnectOptions): Redis {
  const parsed = checkRedisUrl(url);
  const extra: RedisOptions = {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectionName: options.name ?? 'irpscope',
    retryStrategy: options.persistent
      ? (times) => Math.min(times * 200, 5000)
      : (times) => (times > 3 ? null : times * 200),
  };
  if (!parsed.password && process.env[PASSWORD_ENV]) extra.password = process.env[PASSWORD_ENV];
  // rediss:// turns TLS on (ioredis reads it from the URL); the CA comes from Node's store and NODE_EXTRA_CA_CERTS.
  const redis = new Redis(url, extra);
  // Errors are seen where they matter (a command fails, the worker logs its reconnects): never unhandled.
  redis.on('error', () => undefined);
  return redis;
}

/** Connects a command's connection, or says in one line why it cannot, with the URL masked. */
export async function connectOrFail(redis: Redis, url: string): Promise<void> {
  // The connection's own error (refused, wrong password, TLS) says more than the "Connection is
  // closed" its retries end in.
  let cause: Error | null = null;
  const remember = (error: Error): void => void (cause ??= error);
  redis.on('error', remember);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = maskSecrets((cause ?? (error as Error)).message, url);
    throw new FleetError(`cannot reach Redis at ${maskRedisUrl(url)}: ${reason}`);
  } finally {
    redis.off('error', remember);
  }
}
