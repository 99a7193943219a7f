// The workbench's side of the fleet (File › Open Fleet…): a fleet's report and progress read from
// Redis or from a results folder, and a host opened with the baseline it was compared with. The
// source comes from the renderer (or over loopback HTTP): it is checked before use, and a Redis
// URL goes back only masked.

import { statSync } from 'node:fs';
import type { FleetSnapshot, SessionRole, SessionSummary } from '../common/api';
import { FleetError } from '../fleet/errors';
import { maskRedisUrl } from '../fleet/redis';
import { fleetReportFromResults } from '../fleet/from-results';
import { ResultsFolder } from '../fleet/results';
import type { ApiRequest } from '../common/api-decode';
import { RequestError } from '../common/api-errors';

/** A fleet's failure said as a request error (the sentence is for the analyst). */
async function asRequest<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FleetError) throw new RequestError(error.message);
    throw error;
  }
}

export async function fleetSnapshot(request: ApiRequest<'fleet'>): Promise<FleetSnapshot> {
  const { source, fleet } = request;
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
  request: ApiRequest<'openFleetHost'>,
  open: (path: string, role: SessionRole) => Promise<SessionSummary>,
): Promise<{ primary: SessionSummary; baseline: SessionSummary | null }> {
  const { source, fleet, host } = request;
  const snapshot = await fleetSnapshot({ source, fleet });
  const row = snapshot.report?.hosts.find((h) => h.label === host);
  if (!row) throw new RequestError(`no host ${JSON.stringify(host)} in fleet ${fleet}`);
  const baselineRow =
    row.baseline === null ? null : snapshot.report!.baselines.find((b) => b.label === row.baseline);
  const primary = await open(row.image, 'primary');
  const baseline = baselineRow ? await open(baselineRow.image, 'baseline') : null;
  return { primary, baseline };
}
