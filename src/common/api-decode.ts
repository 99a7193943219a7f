// Every request of the API contract (api.ts) as a zod schema: what arrives over HTTP or Electron
// IPC is decoded here, once, into the contract's own types, and the backend then trusts its
// arguments. A request that does not decode is refused with one line naming the field. Objects
// are strict: an unknown field (`__proto__` and `constructor` included) is refused, never carried
// along. The assertions at the end fail the type check when a schema and the contract drift apart.

import { z } from 'zod';
import {
  MAX_ANALYST_LENGTH,
  MAX_NOTE_LENGTH,
  type ApiMethod,
  type DesktopApi,
  type DesktopMethod,
  type ExtractTargetRequest,
  type IrpscopeApi,
} from './api';
import { RequestError } from './api-errors';
import { FLEET_NAME } from './fleet';
import { USER_OPERATIONS } from './flow';
import type { Hex } from './model';
import { visibleText } from './visible-text';

/** The most bytes one readMemory request may ask for. */
export const MAX_MEMORY_READ = 0x10000;
/** The most instructions one disassemble request may ask for. */
export const MAX_DISASSEMBLY = 256;
/** Paths, names and ids: longer strings are refused before anything looks at them. */
export const MAX_STRING = 4096;
/** A driver's or module's name to extract. */
export const MAX_TARGET_NAME = 1024;
export const MAX_ANNOTATION_TARGET = 400;
export const MAX_INFECTIONS = 64;
export const PRACTICE_IMAGE_SIZE = { min: 64 * 1024 * 1024, max: 16 * 1024 * 1024 * 1024 } as const;
export const MAX_SEED = 2 ** 31;

const count = (n: number) => n.toLocaleString('en-US');

const unknownFields = (keys: readonly string[]) =>
  `unknown field${keys.length > 1 ? 's' : ''} ${keys
    .slice(0, 3)
    .map((key) => `"${visibleText(key.length > 40 ? `${key.slice(0, 40)}…` : key)}"`)
    .join(', ')}${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}`;

function object<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? unknownFields(issue.keys)
        : issue.code === 'invalid_type'
          ? issue.input === undefined
            ? 'is missing'
            : 'must be an object'
          : undefined,
  });
}

/** A non-empty string of at most `max` characters: a path, a name, an id. */
function nonEmpty(max = MAX_STRING) {
  const message = 'must be a non-empty string';
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : message) })
    .min(1, { error: message })
    .max(max, {
      error: (issue) =>
        `${message} of at most ${count(max)} characters (this one has ${count((issue.input as string).length)})`,
    });
}

/** Free text the analyst types: any string up to `max` characters, the empty one included (it clears). */
function text(max: number) {
  return z.string({ error: 'must be a string' }).max(max, {
    error: (issue) =>
      `at most ${count(max)} characters (this one has ${count((issue.input as string).length)})`,
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => (issue.input === undefined ? 'is missing' : `must be one of ${values.join(', ')}`),
  });
}

function wholeNumber(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? 'is missing' : message) })
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, { error: message });
}

/** An address: "0x" and 1 to 16 hex digits, decoded in lower case as every result spells it. */
const hex = z
  .string({
    error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a hex address like 0x1000'),
  })
  .regex(/^0x[0-9a-f]{1,16}$/i, { error: 'must be a hex address like 0x1000' })
  .transform((value) => value.toLowerCase() as Hex);

/** The argument of a call that takes none: absent (IPC) or null (the web client's body). */
const nothing = z
  .union([z.undefined(), z.null()], { error: 'takes no argument' })
  .transform((): undefined => undefined);

const sessionId = nonEmpty(256);
const role = oneOf(['primary', 'baseline']);
const structureKinds = [
  'DRIVER_OBJECT',
  'DEVICE_OBJECT',
  'DRIVER_EXTENSION',
  'DEVOBJ_EXTENSION',
  'FAST_IO_DISPATCH',
  'OBJECT_HEADER',
] as const;
const userOperations = USER_OPERATIONS as [(typeof USER_OPERATIONS)[number], ...typeof USER_OPERATIONS];

const flowRequest = object({
  session: sessionId,
  // Empty when the flow starts from a pending IRP (the client has no device to name then).
  device: z.string({ error: 'must be a string' }).max(MAX_STRING, { error: 'must be a device id' }),
  operation: oneOf(userOperations),
  irp: hex.optional(),
}).refine((request) => request.irp !== undefined || request.device !== '', {
  error: 'must be a device id (or give irp)',
  path: ['device'],
});

/** Exactly one of driver, module or address. */
const extractTarget = object({
  driver: nonEmpty(MAX_TARGET_NAME).optional(),
  module: nonEmpty(MAX_TARGET_NAME).optional(),
  address: hex.optional(),
})
  .refine((target) => Object.values(target).filter((v) => v !== undefined).length === 1, {
    error: 'give exactly one of driver, module or address',
  })
  .transform((target): ExtractTargetRequest =>
    target.driver !== undefined
      ? { driver: target.driver }
      : target.module !== undefined
        ? { module: target.module }
        : { address: target.address! },
  );

const fleetSource = z.discriminatedUnion(
  'kind',
  [
    object({ kind: z.literal('redis'), url: nonEmpty(4096) }),
    object({ kind: z.literal('results'), path: nonEmpty() }),
  ],
  { error: 'must be { kind: "redis", url } or { kind: "results", path }' },
);
const fleetName = nonEmpty(64).regex(FLEET_NAME, { error: 'is not a fleet name' });

const captureSource = z.discriminatedUnion(
  'kind',
  [
    object({ kind: z.literal('qmp'), endpoint: nonEmpty() }),
    object({ kind: oneOf(['libvirt', 'virtualbox', 'vmware']), vm: nonEmpty() }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'must be one of qmp, libvirt, virtualbox, vmware'
        : issue.code === 'invalid_type'
          ? issue.input === undefined
            ? 'is missing'
            : 'must be an object'
          : undefined,
  },
);

const annotationTarget = nonEmpty(MAX_ANNOTATION_TARGET).regex(/^(finding|driver|device|handler):\S/, {
  error: 'must be finding:<id>, driver:<va>, device:<va> or handler:<driver va>:<table>:<name>',
});

const REQUEST_SCHEMAS = {
  appInfo: nothing,
  sessions: nothing,
  open: object({ path: nonEmpty(), role: role.optional(), symbols: nonEmpty().optional() }),
  cancel: sessionId,
  close: sessionId,
  result: sessionId,
  readMemory: object({
    session: sessionId,
    space: oneOf(['virtual', 'physical']),
    address: hex,
    length: wholeNumber(1, MAX_MEMORY_READ),
  }),
  disassemble: object({ session: sessionId, address: hex, count: wholeNumber(1, MAX_DISASSEMBLY) }),
  structure: object({ session: sessionId, kind: oneOf(structureKinds), address: hex }),
  flow: flowRequest,
  diff: object({ baseline: sessionId, primary: sessionId }),
  report: object({
    session: sessionId,
    format: oneOf(['html', 'pdf', 'json', 'csv']),
    baseline: sessionId.optional(),
  }),
  openDemo: nothing,
  practiceImage: object({
    profile: nonEmpty().optional(),
    isf: nonEmpty().optional(),
    symbolsDir: nonEmpty().optional(),
    scenario: oneOf(['clean', 'infected']),
    infections: z
      .array(nonEmpty(), { error: 'must be a list of names' })
      .max(MAX_INFECTIONS, { error: `must be at most ${MAX_INFECTIONS} names` })
      .optional(),
    format: oneOf(['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf']),
    size: wholeNumber(PRACTICE_IMAGE_SIZE.min, PRACTICE_IMAGE_SIZE.max),
    seed: wholeNumber(0, MAX_SEED).optional(),
  }),
  recent: nothing,
  browse: z.union([nothing.transform((): null => null), nonEmpty()], {
    error: 'must be a folder path or null',
  }),
  // Absent, null or {}: the default folders.
  captureTargets: z.preprocess((raw) => raw ?? {}, object({ folder: nonEmpty().optional() })),
  capture: object({
    source: captureSource,
    name: nonEmpty().optional(),
    role: role.optional(),
    label: nonEmpty().optional(),
  }),
  cancelCapture: nonEmpty(256),
  captures: nothing,
  caseOf: sessionId,
  annotate: object({
    session: sessionId,
    target: annotationTarget,
    status: z.union([oneOf(['suspicious', 'benign', 'to-check']), z.null()], {
      error: 'must be one of suspicious, benign, to-check or null',
    }),
    // Absent: no note (an annotation with a status only).
    note: text(MAX_NOTE_LENGTH).default(''),
  }),
  updateCase: object({
    session: sessionId,
    analyst: text(MAX_ANALYST_LENGTH).optional(),
    note: text(MAX_NOTE_LENGTH).optional(),
  }),
  hashImage: object({ session: sessionId, action: oneOf(['start', 'cancel']) }),
  extractImage: object({ session: sessionId, target: extractTarget }),
  fleet: object({ source: fleetSource, fleet: fleetName.optional() }),
  openFleetHost: object({ source: fleetSource, fleet: fleetName, host: nonEmpty(1024) }),
} satisfies Record<ApiMethod, z.ZodType>;

/** How a field is called in a refusal: its path, or for the request itself what it is. */
const ROOT_NAMES: Partial<Record<ApiMethod, string>> = {
  cancel: 'session',
  close: 'session',
  result: 'session',
  caseOf: 'session',
  cancelCapture: 'capture',
  browse: 'path',
};

const DESKTOP_SCHEMAS = {
  pickImage: object({ title: nonEmpty(200) }),
  pickDirectory: object({ title: nonEmpty(200) }),
  // Any ReportFile, and so an ExtractedFile too: what the file does not need is left behind
  // (not refused), and only its own fields reach the main process.
  saveFile: z.object(
    {
      // Only the save dialog's suggestion: a report's is "irpscope-" and the image's own name.
      fileName: nonEmpty(1024),
      mimeType: nonEmpty(200),
      // A report or an image: as large as the API made it (IPC carries it whole).
      content: z.string({ error: 'must be a string' }),
      encoding: z.literal('base64', { error: 'must be base64 or absent' }).optional(),
      files: z
        .array(z.object({ name: nonEmpty(1024), content: z.string({ error: 'must be a string' }) }), {
          error: 'must be a list of files',
        })
        .optional(),
    },
    { error: 'must be an object' },
  ),
} satisfies Record<DesktopMethod, z.ZodType>;

/** A request as the backend receives it: the contract's own argument type, decoded and bounded. */
export type ApiRequest<M extends ApiMethod> = z.output<(typeof REQUEST_SCHEMAS)[M]>;
export type DesktopRequest<M extends DesktopMethod> = z.output<(typeof DESKTOP_SCHEMAS)[M]>;

export function isApiMethod(name: string): name is ApiMethod {
  return Object.hasOwn(REQUEST_SCHEMAS, name);
}

/** The request of `method`, decoded from what a client sent; throws a RequestError naming the field. */
export function decodeRequest<M extends ApiMethod>(method: M, raw: unknown): ApiRequest<M> {
  // The schema of `method` decodes to ApiRequest<method>; TypeScript cannot follow the lookup.
  return decode(REQUEST_SCHEMAS[method], raw, ROOT_NAMES[method] ?? `${method} request`) as ApiRequest<M>;
}

/** The same for the calls only the desktop shell has (native dialogs). */
export function decodeDesktopRequest<M extends DesktopMethod>(method: M, raw: unknown): DesktopRequest<M> {
  return decode(DESKTOP_SCHEMAS[method], raw, `${method} request`) as DesktopRequest<M>;
}

function decode(schema: z.ZodType, raw: unknown, rootName: string): unknown {
  const decoded = schema.safeParse(raw);
  if (decoded.success) return decoded.data;
  throw new RequestError(refusal(decoded.error.issues[0], rootName));
}

/** One line: the field's path, then what is wrong with it ("length must be…", "note: at most…"). */
function refusal(issue: z.core.$ZodIssue | undefined, rootName: string): string {
  if (!issue) return `${rootName}: not a valid request`;
  const field = issue.path.length === 0 ? rootName : issue.path.map(String).join('.');
  const message = issue.message;
  return /^(must|is|takes) /.test(message) ? `${field} ${message}` : `${field}: ${message}`;
}

// Compiles only while each schema's type and the contract's argument are one and the same.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type ArgumentOf<F> = F extends (...args: infer P) => unknown ? (P extends [] ? undefined : P[0]) : never;
type Drifted<Schemas, Api, Methods extends keyof Schemas & keyof Api> = {
  [M in Methods]: Same<z.output<Schemas[M] & z.ZodType>, ArgumentOf<Api[M]>> extends true ? never : M;
}[Methods];
const everyRequestMirrorsTheApi: [Drifted<typeof REQUEST_SCHEMAS, IrpscopeApi, ApiMethod>] extends [never]
  ? true
  : Drifted<typeof REQUEST_SCHEMAS, IrpscopeApi, ApiMethod> = true;
const everyDesktopRequestMirrorsTheApi: [Drifted<typeof DESKTOP_SCHEMAS, DesktopApi, DesktopMethod>] extends [
  never,
]
  ? true
  : Drifted<typeof DESKTOP_SCHEMAS, DesktopApi, DesktopMethod> = true;
void everyRequestMirrorsTheApi;
void everyDesktopRequestMirrorsTheApi;
