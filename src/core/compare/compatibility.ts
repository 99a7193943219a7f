// Whether two images can be compared: the same build and architecture, and the same system (most
// drivers pair). Otherwise a warning, or one sentence instead of hundreds of rows.

import type { DiffResult } from '../../common/api';
import type { Side } from './identity';

export function compatibilityOf(baseline: Side, image: Side, matched: number): DiffResult['compatibility'] {
  const build = (side: Side) => {
    const info = side.result.image;
    const number = info.build?.value.number;
    return number
      ? `${info.build!.value.name} (${number}${info.arch ? `, ${info.arch}` : ''})`
      : 'unknown build';
  };
  const a = baseline.result.image;
  const b = image.result.image;
  const sameBuild = a.build?.value.number === b.build?.value.number && a.arch === b.arch;
  const warnings: string[] = [];
  if (!sameBuild)
    warnings.push(
      `The baseline is ${build(baseline)} and this image ${build(image)}: driver images and handler offsets differ between builds, so changed images and handlers are expected. Compare with a baseline of the same build where you can.`,
    );
  let unrelated: string | null = null;
  const smaller = Math.min(baseline.drivers.length, image.drivers.length);
  if (smaller === 0) {
    const empty = baseline.drivers.length === 0 ? 'The baseline' : 'This image';
    unrelated = `${empty} holds no driver objects (a triage dump, or an image whose kernel could not be read), so there is nothing to compare.`;
  } else if (matched / smaller < 0.5)
    unrelated = `These images are not of the same system: only ${matched} of ${smaller} drivers match by name, service key or image (${build(baseline)} against ${build(image)}).`;
  return { baselineBuild: build(baseline), primaryBuild: build(image), sameBuild, warnings, unrelated };
}
