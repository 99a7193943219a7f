// The workbench's views, in their Alt+1…9 order: the renderer's navigation and the desktop
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
] as const;
export type View = (typeof VIEWS)[number];
