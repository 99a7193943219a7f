// The tables `analyze --table` prints, by name: a list of its own so that the command line can
// offer the choices without loading the renderers.

export const TABLES = [
  'drivers',
  'devices',
  'irp',
  'ssdt',
  'callbacks',
  'modules',
  'processes',
  'threads',
  'pending-irps',
  'findings',
  'links',
] as const;
export type TableName = (typeof TABLES)[number];
