// Hosts grouped by what they share: each piece of evidence two or more hosts have gives the set
// of hosts that have it; pieces with the same set of hosts make one cluster (one campaign's
// shared traits), so a host appears in as many clusters as it shares distinct traits with
// distinct groups (every infected host shares the dropped driver; a third of them also the same
// hooks). The order is fixed: larger clusters first, then the more severe, then by evidence.

import { severityRank, type Severity } from '../common/findings';
import type { ClusterRow, Evidence } from './types';

export interface ClusterInput {
  label: string;
  evidence: readonly Evidence[];
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function bySeverityThenKey(a: Evidence, b: Evidence): number {
  return severityRank(b.severity) - severityRank(a.severity) || compareText(a.key, b.key);
}

export function clusterHosts(hosts: readonly ClusterInput[]): ClusterRow[] {
  const holders = new Map<string, { evidence: Evidence; hosts: Set<string> }>();
  for (const host of hosts)
    for (const evidence of host.evidence) {
      const entry = holders.get(evidence.key) ?? { evidence, hosts: new Set<string>() };
      // The same evidence can weigh more on one host (the driver also hidden there): the gravest
      // counts; between equals, the first label (a renamed driver's names differ), whatever the order.
      const rank = severityRank(evidence.severity) - severityRank(entry.evidence.severity);
      if (rank > 0 || (rank === 0 && evidence.label < entry.evidence.label)) entry.evidence = evidence;
      entry.hosts.add(host.label);
      holders.set(evidence.key, entry);
    }
  const groups = new Map<string, { hosts: string[]; evidence: Evidence[] }>();
  for (const { evidence, hosts: set } of holders.values()) {
    if (set.size < 2) continue;
    const members = [...set].sort(compareText);
    const id = members.join('\0');
    const group = groups.get(id) ?? { hosts: members, evidence: [] };
    group.evidence.push(evidence);
    groups.set(id, group);
  }
  const clusters = [...groups.values()].map((group) => {
    const evidence = group.evidence.sort(bySeverityThenKey);
    const severity: Severity = evidence[0]!.severity;
    return { hosts: group.hosts, evidence, severity };
  });
  clusters.sort(
    (a, b) =>
      b.hosts.length - a.hosts.length ||
      severityRank(b.severity) - severityRank(a.severity) ||
      compareText(a.evidence[0]!.key, b.evidence[0]!.key),
  );
  return clusters.map((cluster, index) => ({ id: `C${index + 1}`, ...cluster }));
}
