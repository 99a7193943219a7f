// Requests reach the backend from a renderer or over HTTP: their arguments are checked here
// before anything uses them.

import { RequestError } from '../common/api-errors';

// One class for every refusal: the transports tell the request's faults from the program's by it.
export { RequestError };

export function requireString(value: unknown, what: string, max = 4096): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw new RequestError(`${what} must be a non-empty string`);
  return value;
}

export function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, what);
}

/**
 * Free text the analyst types (a note, their name): any string up to `max` characters, the empty
 * one included (it clears); undefined when absent.
 */
export function optionalText(value: unknown, what: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RequestError(`${what} must be a string`);
  if (value.length > max)
    throw new RequestError(
      `${what}: at most ${max.toLocaleString('en-US')} characters (this one has ${value.length.toLocaleString('en-US')})`,
    );
  return value;
}

export function requireHex(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(value))
    throw new RequestError(`${what} must be a hex address like 0x1000`);
  return value.toLowerCase();
}

export function requireInt(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RequestError(`${what} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function requireOneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RequestError(`${what} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RequestError(`${what} must be an object`);
  return value as Record<string, unknown>;
}
