// Object type tables (ObTypeIndexTable order). The indices of Device and Driver per version are
// the reference values of spec §1.8.4 (Volatility's type maps): 25/26 Windows 7, 26/27 8.1,
// 30/31 14393, 32/33 16299–17763, 33/34 18362+. The order of the other types follows the
// Windows type-creation order as seen in those maps; for builds the spec does not cover
// (20348, 22000) the indices are our guess and deliberately differ, so no reader may hard-code them.

import type { Family } from './kernel-layout';

const BEFORE_DEVICE = [
  'Type',
  'Directory',
  'SymbolicLink',
  'Token',
  'Job',
  'Process',
  'Thread',
  'Partition',
  'UserApcReserve',
  'IoCompletionReserve',
  'ActivityReference',
  'PsSiloContextPaged',
  'PsSiloContextNonPaged',
  'DebugObject',
  'Event',
  'EventPair',
  'Mutant',
  'Callback',
  'Semaphore',
  'Timer',
  'IRTimer',
  'Profile',
  'KeyedEvent',
  'WindowStation',
  'Desktop',
  'Composition',
  'RawInputManager',
  'CoreMessaging',
  'ActivationObject',
  'ProcessStateChange',
  'ThreadStateChange',
  'CpuPartition',
];

const TAIL = ['TpWorkerFactory', 'Adapter', 'Controller'];

const AFTER_DRIVER = [
  'IoCompletion',
  'WaitCompletionPacket',
  'File',
  'TmTm',
  'TmTx',
  'TmRm',
  'TmEn',
  'Section',
  'Session',
  'Key',
  'ALPC Port',
  'PowerRequest',
  'WmiGuid',
  'EtwRegistration',
  'EtwConsumer',
  'DmaAdapter',
  'DmaDomain',
  'PcwObject',
  'FilterConnectionPort',
  'FilterCommunicationPort',
  'NdisCmState',
  'DxgkSharedResource',
  'DxgkSharedSyncObject',
  'DxgkSharedSwapChainObject',
  'VRegConfigurationContext',
];

/** Types that a given generation does not have yet (so that Device lands on its index). */
function typesFor(family: Family, build: number): string[] {
  const absent = new Set<string>();
  if (family === 'xp' || family === '2003') {
    // XP/2003: a short list; types are found through OBJECT_HEADER.Type, not an index table.
    return [
      'Type',
      'Directory',
      'SymbolicLink',
      'Token',
      'Process',
      'Thread',
      'Job',
      'DebugObject',
      'Event',
      'EventPair',
      'Mutant',
      'Callback',
      'Semaphore',
      'Timer',
      'Profile',
      'KeyedEvent',
      'WindowStation',
      'Desktop',
      'Section',
      'Key',
      'Port',
      'WaitablePort',
      'Adapter',
      'Controller',
      'Device',
      'Driver',
      'IoCompletion',
      'File',
      'WmiGuid',
      'FilterConnectionPort',
      'FilterCommunicationPort',
    ];
  }
  const win10Only = [
    'Partition',
    'ActivityReference',
    'PsSiloContextPaged',
    'PsSiloContextNonPaged',
    'RawInputManager',
    'CoreMessaging',
    'ActivationObject',
    'ProcessStateChange',
    'ThreadStateChange',
    'CpuPartition',
  ];
  if (build < 10240) win10Only.forEach((t) => absent.add(t));
  if (build < 9200) ['IRTimer', 'Composition'].forEach((t) => absent.add(t));
  if (build >= 9200) absent.add('EventPair');
  if (build < 7600) ['UserApcReserve', 'IoCompletionReserve'].forEach((t) => absent.add(t));
  if (build >= 10240 && build < 15063)
    ['ActivationObject', 'PsSiloContextPaged', 'PsSiloContextNonPaged'].forEach((t) => absent.add(t));
  if (build >= 10240 && build < 18362) absent.add('PsSiloContextNonPaged');
  if (build >= 10240 && build < 16299) absent.add('PsSiloContextPaged');
  if (build < 20348) absent.add('CpuPartition');
  if (build < 22000) ['ProcessStateChange', 'ThreadStateChange'].forEach((t) => absent.add(t));
  const before = BEFORE_DEVICE.filter((t) => !absent.has(t));
  const after = AFTER_DRIVER.filter(
    (t) =>
      build >= 9200 ||
      ![
        'WaitCompletionPacket',
        'DmaAdapter',
        'DmaDomain',
        'NdisCmState',
        'DxgkSharedResource',
        'DxgkSharedSyncObject',
        'DxgkSharedSwapChainObject',
        'VRegConfigurationContext',
      ].includes(t),
  );
  return [...before, ...TAIL, 'Device', 'Driver', ...after];
}

export function objectTypeNames(family: Family, build: number): string[] {
  return typesFor(family, build);
}

/** The index in ObTypeIndexTable of a type (the table starts at index 2). */
export function objectTypeIndex(types: readonly string[], name: string): number {
  const at = types.indexOf(name);
  if (at < 0) throw new Error(`no object type ${name}`);
  return at + 2;
}
