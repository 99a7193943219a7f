// The workbench's side of the fleet (File › Open Fleet…): a fleet's report and progress read from
// Redis or from a results folder, and a host opened with the baseline it was compared with. The
// source comes from the renderer (or over loopback HTTP): it is checked before use, and a Redis
// URL goes back only masked.

import { statSync } from 'node:fs';
import type { FleetSnapshot, FleetSource, SessionRole, SessionSummary } from '../common/api';
import { FleetError } from '../fleet/errors';
import { maskRedisUrl } from '../fleet/redis';
import { fleetReportFromResults } from '../fleet/from-results';
import { ResultsFolder } from '../fleet/results';
import { FLEET_NAME } from '../fleet/types';
import { RequestError, optionalString, requireObject, requireOneOf, requireString } from './validate';

function requireSource(value: unknown): FleetSource {
  const body = requireObject(value, 'source');
  const kind = requireOneOf(body.kind, 'source.kind', ['redis', 'results'] as const);
  if (kind === 'redis') return { kind, url: requireString(body.url, 'source.url') };
  return { kind, path: requireString(body.path, 'source.path') };
}

function requireFleetName(value: unknown): string | undefined {
  const fleet = optionalString(value, 'fleet');
  if (fleet !== undefined && !FLEET_NAME.test(fleet)) throw new RequestError('fleet is not a fleet name');
  return fleet;
}

/** A fleet's failure said as a request error (the sentence is for the analyst). */
async function asRequest<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FleetError) throw new RequestError(error.message);
    throw error;
  }
}

export async function fleetSnapshot(request: unknown): Promise<FleetSnapshot> {
  const body = requireObject(request, 'fleet request');
  const source = requireSource(body.source);
  const fleet = requireFleetName(body.fleet);
  return asRequest(async () => {
    if (source.kind === 'redis') {
      // Loaded on first use: the workbench starts without BullMQ.
      const { readFleetFromRedis } = await import('../fleet/bullmq');
      const read = await readFleetFromRedis(source.url, fleet);
      return { source: maskRedisUrl(source.url), ...read, skipped: [] };
    }
    const results = new ResultsFolder(source.path);
    if (!statSync(results.root, { throwIfNoEntry: false })?.isDirectory())
      throw new FleetError(`${results.root} is not a folder`);
    const fleets = results.fleets();
    const name = fleet ?? fleets[0];
    if (name === undefined)
      return { source: results.root, fleets, fleet: null, report: null, status: null, skipped: [] };
    const { report, skipped } = fleetReportFromResults(results, name);
    return { source: results.root, fleets, fleet: name, report, status: null, skipped };
  });
}

export async function openFleetHost(
  request: unknown,
  open: (path: string, role: SessionRole) => Promise<SessionSummary>,
): Promise<{ primary: SessionSummary; baseline: SessionSummary | null }> {
  const body = requireObject(request, 'openFleetHost request');
  const host = requireString(body.host, 'host');
  const fleet = requireFleetName(body.fleet);
  if (fleet === undefined) throw new RequestError('fleet must be a non-empty string');
  const snapshot = await fleetSnapshot({ source: body.source, fleet });
  const row = snapshot.report?.hosts.find((h) => h.label === host);
  if (!row) throw new RequestError(`no host ${JSON.stringify(host)} in fleet ${fleet}`);
  const baselineRow =
    row.baseline === null ? null : snapshot.report!.baselines.find((b) => b.label === row.baseline);
  const primary = await open(row.image, 'primary');
  const baseline = baselineRow ? await open(baselineRow.image, 'baseline') : null;
  return { primary, baseline };
}
