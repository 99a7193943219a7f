// The workbench's views, the first ten in their Alt+1…9, 0 order: the renderer's navigation and
// the desktop shell's View menu are both built from this list.

export const VIEWS = [
  'overview',
  'drivers',
  'devices',
  'modules',
  'findings',
  'hex',
  'flow',
  'diff',
  'services',
  'activity',
  'callbacks',
] as const;

/** The Alt+digit key of the view at `index` (the tenth is Alt+0; past the tenth there is none). */
export function viewKey(index: number): string | null {
  return index < 10 ? String((index + 1) % 10) : null;
}
export type View = (typeof VIEWS)[number];
