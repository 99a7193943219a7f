// One request as every transport serves it (the web server's POST /api/<method>, the desktop's
// IPC handlers): decode it, run it, and say what the client may be told. A request the client got
// wrong is refused with its reason; any other failure is the program's: the transport logs it
// with its stack under a short reference, and the client gets that reference, never the internals
// (paths, stack frames, a library's message).

import type { ApiMethod, IrpscopeApi } from './api';
import { decodeRequest, type ApiRequest } from './api-decode';
import { RequestError } from './api-errors';

/** What serves the API: the backend, or anything with its request/response calls. */
export type ApiCalls = Pick<IrpscopeApi, ApiMethod>;

export type ApiAnswer =
  { ok: true; value: unknown } | { ok: false; kind: 'request' | 'internal'; message: string };

export interface InternalFailure {
  /** The call that failed: an API method, a desktop call. */
  method: string;
  /** Given to the client too, so what it shows can be found in the log. */
  reference: string;
  error: unknown;
}

export function serveRequest(
  api: ApiCalls,
  method: ApiMethod,
  raw: unknown,
  onInternalFailure: (failure: InternalFailure) => void,
): Promise<ApiAnswer> {
  return settle(method, () => callDecoded(api, method, raw), onInternalFailure);
}

/** Runs one call and sorts its failure: the request's (said as it is) or the program's (logged). */
export async function settle(
  method: string,
  work: () => Promise<unknown>,
  onInternalFailure: (failure: InternalFailure) => void,
): Promise<ApiAnswer> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof RequestError) return { ok: false, kind: 'request', message: error.message };
    const reference = globalThis.crypto.randomUUID().slice(0, 8);
    onInternalFailure({ method, reference, error });
    return { ok: false, kind: 'internal', message: internalErrorMessage(method, reference) };
  }
}

export function internalErrorMessage(what: string, reference: string): string {
  return `internal error in ${what} (reference ${reference}; the details are in IRPscope's log)`;
}

/** Decodes what a client sent for `method` and calls it: a request that does not decode rejects with a RequestError. */
export async function callDecoded<M extends ApiMethod>(
  api: ApiCalls,
  method: M,
  raw: unknown,
): Promise<Awaited<ReturnType<ApiCalls[M]>>> {
  const request = decodeRequest(method, raw);
  // api[method] takes ApiRequest<method> (api-decode.ts asserts it); TypeScript cannot follow the lookup.
  const handler = api[method] as (request: ApiRequest<M>) => ReturnType<ApiCalls[M]>;
  return await handler.call(api, request);
}
