// The analysis result (model.ts) as a zod schema, for results read back from disk — a case's
// stored result is a file anyone could have edited. It mirrors AnalysisResult field for field;
// the assertion at the end fails the type check when the two drift apart.

import { z } from 'zod';
import { FINDING_KINDS, HANDLER_VERDICTS, SEVERITIES } from './findings';
import type { Hex } from './hex';
import {
  ANALYSIS_SCHEMA,
  CALLBACK_KINDS,
  COVERED_PARTS,
  INFO_SCHEMA,
  type AnalysisResult,
  type CoveredPart,
} from './model';

/** An address as every result spells it: "0x" and at most 16 hex digits. */
export const hexSchema = z.custom<Hex>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(value),
  'not a hex address like 0x1000',
);
const count = z.number().nonnegative();
const finite = z.number(); // zod 4 refuses NaN and the infinities

function discovered<T extends z.ZodType>(value: T) {
  return z.object({ value, method: z.string() });
}

const timings = z.array(z.object({ stage: z.string(), ms: finite }));

const imageInfoSchema = z.object({
  schema: z.literal(INFO_SCHEMA),
  path: z.string(),
  fileSize: count,
  format: z.object({
    id: z.string(),
    description: z.string(),
    details: z.record(z.string(), z.union([z.string(), finite, z.boolean()])),
  }),
  physical: z.object({ runs: count, bytes: count, maxAddress: hexSchema }),
  arch: z.enum(['x86', 'x64']).nullable(),
  paging: z.enum(['x86', 'pae', 'x64']).nullable(),
  dtb: discovered(hexSchema).nullable(),
  kernelBase: discovered(hexSchema).nullable(),
  kernelSize: count.nullable(),
  build: discovered(z.object({ number: count, major: count, minor: count, name: z.string() })).nullable(),
  pdb: z.object({ name: z.string(), guid: z.string(), age: count }).nullable(),
  kdbg: discovered(z.object({ va: hexSchema, encoded: z.boolean() })).nullable(),
  psLoadedModuleList: discovered(hexSchema).nullable(),
  psActiveProcessHead: discovered(hexSchema).nullable(),
  objectRootDirectory: discovered(hexSchema).nullable(),
  obHeaderCookie: discovered(finite).nullable(),
  typeIndex: discovered(z.object({ Driver: finite, Device: finite })).nullable(),
  profile: z
    .object({ source: z.enum(['builtin', 'isf']), name: z.string(), path: z.string().optional() })
    .nullable(),
  layouts: z
    .array(
      z.object({
        structure: z.string(),
        state: z.enum(['established', 'partial', 'not-established']),
        reason: z.string().nullable(),
        fields: z.array(
          z.object({
            field: z.string(),
            offset: hexSchema.nullable(),
            method: z.enum([
              'symbol-file',
              'kernel-code',
              'structure',
              'table-checked',
              'table',
              'not-established',
            ]),
            detail: z.string(),
          }),
        ),
      }),
    )
    .optional(),
  crashDump: z
    .object({
      dumpType: finite,
      dumpTypeName: z.string(),
      bugCheck: z.object({ code: hexSchema, parameters: z.array(hexSchema) }).optional(),
    })
    .optional(),
  triage: z
    .object({
      note: z.string(),
      modules: z.array(z.object({ name: z.string(), path: z.string(), base: hexSchema, size: count })),
    })
    .optional(),
  timings,
  bytesRead: count,
  warnings: z.array(z.string()),
  noKernel: z.string().optional(),
});

const coverageSchema = z.object({
  state: z.enum(['complete', 'partial', 'unavailable']),
  missing: z.array(z.string()),
});

const disassemblySchema = z.object({ bytes: z.string(), instructions: z.array(z.string()) });
const verdict = z.enum(HANDLER_VERDICTS);

const handlerSchema = z.object({
  index: count,
  name: z.string(),
  address: hexSchema,
  module: z.string().nullable(),
  offset: hexSchema.nullable(),
  symbol: z.string().nullable(),
  verdict,
  target: z.object({ address: hexSchema, module: z.string().nullable() }).optional(),
  disassembly: disassemblySchema.optional(),
});

const driverSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  nameStatus: z.string().nullable(),
  objectName: z.string().nullable(),
  directory: z.string().nullable(),
  serviceKey: z.string().nullable(),
  objectVa: hexSchema,
  objectPa: hexSchema.nullable(),
  start: hexSchema,
  size: count,
  module: z.string().nullable(),
  flags: count,
  flagNames: z.array(z.string()),
  foundBy: z.array(z.enum(['pool-scan', 'directory', 'module-list', 'device-walk'])),
  state: z.enum(['live', 'freed']),
  devices: z.array(z.string()),
  irp: z.array(handlerSchema),
  fastIo: z.array(handlerSchema),
  callbacks: z.array(handlerSchema),
  fastIoDispatch: hexSchema.nullable(),
});

const nameHashSchema = z.object({ bucket: count, value: count.nullable() });

const deviceSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  nameStatus: z.string().nullable(),
  inferredName: z.string().nullable(),
  nameHash: nameHashSchema.nullable(),
  objectVa: hexSchema,
  objectPa: hexSchema.nullable(),
  driver: z.string(),
  driverName: z.string().nullable(),
  type: count,
  typeName: z.string(),
  flags: count,
  flagNames: z.array(z.string()),
  characteristics: count,
  characteristicNames: z.array(z.string()),
  attachedDevice: z.string().nullable(),
  attachedTo: z.string().nullable(),
  stack: z.array(z.string()),
  links: z.array(z.string()),
});

const moduleSchema = z.object({
  name: z.string(),
  path: z.string().nullable(),
  base: hexSchema,
  size: count,
  timeDateStamp: count.nullable(),
  checksum: count.nullable(),
  ldrEntry: hexSchema.nullable(),
  foundBy: z.array(z.enum(['module-list', 'pool-scan', 'driver-section'])),
  unlinked: z.boolean(),
});

const linkSchema = z.object({
  name: z.string().nullable(),
  nameStatus: z.string().nullable(),
  nameHash: nameHashSchema.nullable(),
  target: z.string().nullable(),
  targetStatus: z.string().nullable(),
  objectVa: hexSchema,
  device: z.string().nullable(),
});

const findingSchema = z.object({
  id: z.string(),
  severity: z.enum(SEVERITIES),
  kind: z.enum(FINDING_KINDS),
  subject: z.string(),
  explanation: z.string(),
  evidence: z.object({
    addresses: z.array(hexSchema).optional(),
    modules: z.array(z.string()).optional(),
    driver: z.string().optional(),
    device: z.string().optional(),
    handlers: z
      .array(z.object({ name: z.string(), address: hexSchema, module: z.string().nullable(), verdict }))
      .optional(),
    disassembly: disassemblySchema.optional(),
    detail: z.string().optional(),
  }),
});

const serviceTableSchema = z.object({
  descriptor: hexSchema,
  method: z.string(),
  base: hexSchema,
  limit: count,
  entries: z.array(handlerSchema),
});

const callbackSectionSchema = z.object({
  heads: z.array(
    z.object({
      kind: z.enum(CALLBACK_KINDS),
      address: hexSchema.nullable(),
      method: z.string().nullable(),
      coverage: coverageSchema,
    }),
  ),
  entries: z.array(
    z.object({
      kind: z.enum(CALLBACK_KINDS),
      slot: count,
      entry: hexSchema,
      block: hexSchema.nullable(),
      routine: handlerSchema,
      owner: z.string().nullable(),
      context: hexSchema.nullable(),
      component: z.string().nullable(),
      device: hexSchema.nullable(),
      driver: hexSchema.nullable(),
      tid: count.optional(),
      processor: count.optional(),
      period: count.optional(),
      operation: z.enum(['pre', 'post']).optional(),
      dispatch: z.object({ address: hexSchema, module: z.string().nullable() }).optional(),
    }),
  ),
});

const processSchema = z.object({
  objectVa: hexSchema,
  name: z.string(),
  pid: count,
  parentPid: count,
  dtb: hexSchema,
  foundBy: z.array(z.enum(['process-list', 'pool-scan'])),
  hidden: z.boolean(),
  threads: z.array(hexSchema),
});

const threadSchema = z.object({
  objectVa: hexSchema,
  tid: count,
  pid: count,
  process: hexSchema,
  startAddress: hexSchema,
  startModule: z.string().nullable(),
  win32StartAddress: hexSchema,
  irps: z.array(hexSchema),
});

const irpStackLocationSchema = z.object({
  index: count,
  current: z.boolean(),
  major: count,
  majorName: z.string(),
  minor: count,
  control: count,
  device: hexSchema.nullable(),
  deviceName: z.string().nullable(),
  driver: hexSchema.nullable(),
  driverName: z.string().nullable(),
  fileObject: hexSchema.nullable(),
  parameters: z.string().nullable(),
  completion: handlerSchema.nullable(),
  completionSetBy: hexSchema.nullable(),
});

const irpSchema = z.object({
  address: hexSchema,
  foundBy: z.array(z.enum(['pool-scan', 'thread-irp-list'])),
  size: count,
  stackCount: count,
  currentLocation: finite,
  flags: count,
  flagNames: z.array(z.string()),
  requestorMode: z.enum(['kernel', 'user']),
  cancel: z.boolean(),
  systemBuffer: hexSchema.nullable(),
  userBuffer: hexSchema.nullable(),
  thread: hexSchema.nullable(),
  tid: count.nullable(),
  pid: count.nullable(),
  processName: z.string().nullable(),
  fileObject: hexSchema.nullable(),
  fileName: z.string().nullable(),
  fileDevice: hexSchema.nullable(),
  major: count,
  majorName: z.string(),
  device: hexSchema.nullable(),
  driver: hexSchema.nullable(),
  stack: z.array(irpStackLocationSchema),
});

export const analysisResultSchema = z.object({
  schema: z.literal(ANALYSIS_SCHEMA),
  image: imageInfoSchema,
  coverage: z.object(
    Object.fromEntries(COVERED_PARTS.map((part) => [part, coverageSchema])) as {
      [P in CoveredPart]: typeof coverageSchema;
    },
  ),
  serviceTable: serviceTableSchema.nullable(),
  callbacks: callbackSectionSchema,
  drivers: z.array(driverSchema),
  devices: z.array(deviceSchema),
  modules: z.array(moduleSchema),
  links: z.array(linkSchema),
  processes: z.array(processSchema),
  threads: z.array(threadSchema),
  irps: z.array(irpSchema),
  findings: z.array(findingSchema),
  stats: z.object({ bytesScanned: count, poolHits: count, workers: count, timings }),
});

// Compiles only while the schema's type and AnalysisResult are one and the same (an optional
// field more or less included, which plain assignability in both directions would let pass).
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const mirrorsTheModel: Same<z.infer<typeof analysisResultSchema>, AnalysisResult> = true;
void mirrorsTheModel;
