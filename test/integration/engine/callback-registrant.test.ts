// A callback record that names its driver (a file-system registration change's
// NOTIFICATION_PACKET { ListEntry, DriverObject, NotificationRoutine }) is judged against that
// driver's module: its routine redirected into another driver's code is a finding, with the
// record and both modules as evidence; the untouched records of the same image are not.

import { describe, expect, test } from 'vitest';
import { callbackTestImage, oneLayoutPerArch } from '../../support/callback-images';
import { patchedImageCopy } from '../../support/patched-image';
import { analyzeImage } from '../../../src/core/node/analyze';

describe.each(oneLayoutPerArch())('a redirected file-system registration: $label', ({ isf, profile }) => {
  test("its routine in another driver's module is callback-other-module; the other records are their drivers' own", async () => {
    const { image, truth } = callbackTestImage({ isf, profile, scenario: 'clean' });
    const records = truth.registeredCallbacks.filter((r) => r.kind === 'fs-registration');
    const victim = records[0]!;
    // Another stock driver's routine, in a module that is neither the kernel nor a framework.
    const elsewhere = truth.registeredCallbacks.find(
      (r) => r.kind === 'process-notify' && r.owner !== victim.owner,
    )!;
    const pointer = truth.arch === 'x64' ? 8n : 4n;
    const copy = patchedImageCopy(image, truth, [
      { va: BigInt(victim.entry) + 3n * pointer, value: BigInt(elsewhere.routine) },
    ]);

    const result = await analyzeImage(copy);
    const entries = result.callbacks.entries.filter((c) => c.kind === 'fs-registration');
    const redirected = entries.find((c) => c.entry === victim.entry)!;
    expect(redirected.routine.verdict).toBe('other-module');
    expect(redirected.owner).toBe(elsewhere.owner);
    for (const other of entries.filter((c) => c !== redirected))
      expect(other.routine.verdict).toBe('own-image');
    const findings = result.findings.filter((f) => f.kind === 'callback-other-module');
    expect(findings.map((f) => [f.severity, f.subject])).toEqual([['high', elsewhere.owner]]);
    expect(findings[0]!.evidence.addresses).toEqual([victim.entry, elsewhere.routine]);
    expect(findings[0]!.explanation).toContain(`names the driver object ${victim.driver}`);

    const intact = await analyzeImage(image);
    expect(intact.findings.filter((f) => f.kind === 'callback-other-module')).toEqual([]);
  });
});
