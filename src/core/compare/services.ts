// System services of two images: a service is its number in the table, which a build never
// changes; where its entry sends the call is compared as module+offset, verdict and patch target
// (addresses move with every boot). Images of different builds number their services otherwise
// and are not compared service by service.

import type { DiffChange } from '../../common/api';
import { isSuspiciousVerdict } from '../../common/findings';
import type { Handler } from '../../common/model';
import type { Entries } from './entries';
import type { Side } from './identity';

function serviceText(h: Handler): string {
  const where = h.module ? `${h.module}+${h.offset}` : `${h.address} (no module)`;
  const patched = h.target ? ` → ${h.target.module ?? h.target.address}` : '';
  return `${where} [${h.verdict}]${patched}`;
}

export function compareServices(entries: Entries, baseline: Side, image: Side): void {
  const a = baseline.result.serviceTable;
  const b = image.result.serviceTable;
  if (!a || !b) return;
  if (baseline.result.image.build?.value.number !== image.result.image.build?.value.number) return;
  const before = new Map(a.entries.map((h) => [h.index, h]));
  for (const after of b.entries) {
    const was = before.get(after.index);
    if (!was) continue;
    const textA = serviceText(was);
    const textB = serviceText(after);
    if (textA === textB) continue;
    const severity = isSuspiciousVerdict(after.verdict)
      ? 'critical'
      : isSuspiciousVerdict(was.verdict)
        ? 'low'
        : 'medium';
    const change: DiffChange = { what: 'routine', baseline: textA, primary: textB, severity };
    const entry = entries.add({
      kind: 'service',
      change: 'changed',
      key: after.name,
      severity,
      summary: `${after.name} (service 0x${after.index.toString(16)}) now runs ${textB}, was ${textA}`,
      matchedBy: [
        { fact: 'service-number', index: after.index, build: image.result.image.build?.value.number ?? null },
      ],
      unknown: [],
      changes: [change],
      baseline: { text: textA, service: was.name },
      primary: { text: textB, service: after.name },
      variation: null,
    });
    entries.serviceA.set(was.name, entry);
    entries.serviceB.set(after.name, entry);
  }
}
