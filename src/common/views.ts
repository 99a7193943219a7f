// The workbench's views, in their Alt+1…9, 0 order: the renderer's navigation and the desktop
// shell's View menu are both built from this list.

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
] as const;

/** The Alt+digit key of the view at `index` (the tenth is Alt+0). */
export function viewKey(index: number): string {
  return String((index + 1) % 10);
}
export type View = (typeof VIEWS)[number];
