// A fleet's report from its results folder alone (no Redis): what the workbench opens, and
// `fleet report --results`. Only finished jobs leave a summary there, so hosts still queued do
// not appear; a summary that does not fit its schema is said, not used.

import { FleetError } from './errors';
import { buildFleetReport, type JobView } from './report';
import type { ResultsFolder } from './results';
import type { BaselineSummary, FleetReport, HostSummary } from './types';

function view<S extends HostSummary | BaselineSummary>(summary: S): JobView<S> {
  return {
    image: summary.image,
    label: summary.label,
    submittedAt: summary.submittedAt,
    state: summary.state,
    summary,
    error: summary.error,
  };
}

export function fleetReportFromResults(
  results: ResultsFolder,
  fleet: string,
): { report: FleetReport; skipped: string[] } {
  const { hosts, baselines, skipped } = results.readSummaries(fleet);
  if (hosts.length === 0 && baselines.length === 0) {
    const fleets = results.fleets();
    throw new FleetError(
      `no results of fleet ${JSON.stringify(fleet)} in ${results.root}` +
        (fleets.length ? ` (fleets there: ${fleets.join(', ')})` : ''),
    );
  }
  return { report: buildFleetReport(fleet, baselines.map(view), hosts.map(view)), skipped };
}
