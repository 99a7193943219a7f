// The API's decoders (src/common/api-decode.ts), one family at a time: a good request decodes to
// the contract's type (normalised where the contract says so), and a bad one — wrong types, out of
// bounds, huge, extra or prototype-polluting keys — is refused with one line naming the field.

import { describe, expect, test } from 'vitest';
import { API_METHODS, type ApiMethod } from '../../../src/common/api';
import {
  MAX_MEMORY_READ,
  MAX_STRING,
  decodeDesktopRequest,
  decodeRequest,
  isApiMethod,
} from '../../../src/common/api-decode';
import { RequestError } from '../../../src/common/api-errors';

/** The refusal's message, failing the test when the request was accepted or failed otherwise. */
function refusal(method: ApiMethod, raw: unknown): string {
  try {
    decodeRequest(method, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    const message = (error as Error).message;
    expect(message, 'one line').not.toMatch(/[\n\r]/);
    return message;
  }
  throw new Error(`${method} accepted ${JSON.stringify(raw)?.slice(0, 200)}`);
}

const huge = 'x'.repeat(MAX_STRING + 1);

describe('every method has a decoder', () => {
  test('each refuses a value no request is with a RequestError, never a crash', () => {
    for (const method of API_METHODS) expect(refusal(method, Symbol('x')).length).toBeGreaterThan(0);
  });

  test('only the API methods are methods: no prototype names', () => {
    for (const method of API_METHODS) expect(isApiMethod(method)).toBe(true);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'subscribe', 'dispose'])
      expect(isApiMethod(name), name).toBe(false);
  });
});

describe('calls without an argument', () => {
  test.each(['appInfo', 'sessions', 'openDemo', 'recent', 'captures'] as const)('%s', (method) => {
    expect(decodeRequest(method, undefined)).toBeUndefined();
    expect(decodeRequest(method, null)).toBeUndefined();
    expect(refusal(method, {})).toBe(`${method} request takes no argument`);
    expect(refusal(method, 'x')).toBe(`${method} request takes no argument`);
  });
});

describe('calls on one session or capture', () => {
  test.each([
    ['cancel', 'session'],
    ['close', 'session'],
    ['result', 'session'],
    ['caseOf', 'session'],
    ['cancelCapture', 'capture'],
  ] as const)('%s takes its %s id', (method, field) => {
    expect(decodeRequest(method, 's1')).toBe('s1');
    expect(refusal(method, '')).toBe(`${field} must be a non-empty string`);
    expect(refusal(method, 5)).toBe(`${field} must be a non-empty string`);
    expect(refusal(method, { session: 's1' })).toBe(`${field} must be a non-empty string`);
    expect(refusal(method, huge)).toBe(
      `${field} must be a non-empty string of at most 256 characters (this one has 4,097)`,
    );
  });
});

describe('open', () => {
  test('a path, a role and a symbol folder', () => {
    expect(decodeRequest('open', { path: '/images/a.raw' })).toEqual({ path: '/images/a.raw' });
    expect(decodeRequest('open', { path: 'a.raw', role: 'baseline', symbols: '/sym' })).toEqual({
      path: 'a.raw',
      role: 'baseline',
      symbols: '/sym',
    });
  });

  test('refusals name the field', () => {
    expect(refusal('open', null)).toBe('open request must be an object');
    expect(refusal('open', [])).toBe('open request must be an object');
    expect(refusal('open', {})).toBe('path is missing');
    expect(refusal('open', { path: 7 })).toBe('path must be a non-empty string');
    expect(refusal('open', { path: huge })).toBe(
      'path must be a non-empty string of at most 4,096 characters (this one has 4,097)',
    );
    expect(refusal('open', { path: 'a', role: 'admin' })).toBe('role must be one of primary, baseline');
    expect(refusal('open', { path: 'a', symbols: null })).toBe('symbols must be a non-empty string');
    expect(refusal('open', { path: 'a', mode: 'rw' })).toBe('open request: unknown field "mode"');
  });
});

describe('hostile keys', () => {
  test('__proto__, constructor and prototype are unknown fields, and nothing is polluted', () => {
    const polluting = JSON.parse('{"path":"a","__proto__":{"polluted":true,"role":"baseline"}}') as unknown;
    expect(refusal('open', polluting)).toBe('open request: unknown field "__proto__"');
    expect(refusal('open', { path: 'a', constructor: { prototype: { polluted: true } } })).toBe(
      'open request: unknown field "constructor"',
    );
    const nested = JSON.parse(
      '{"session":"s1","target":{"driver":"x","__proto__":{"polluted":1}}}',
    ) as unknown;
    expect(refusal('extractImage', nested)).toBe('target: unknown field "__proto__"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('an unknown key is quoted with its hidden characters shown and cut short', () => {
    const message = refusal('open', { path: 'a', ['evil\u202e\n\u001b[2J' + 'k'.repeat(100)]: 1 });
    expect(message).toBe(`open request: unknown field "evil\\u202e\\u000a\\u001b[2J${'k'.repeat(30)}…"`);
    expect(refusal('open', { path: 'a', b: 1, c: 2, d: 3, e: 4, f: 5 })).toBe(
      'open request: unknown fields "b", "c", "d" and 2 more',
    );
  });
});

describe('memory, disassembly and structures', () => {
  test('addresses decode in lower case, lengths and counts within their bounds', () => {
    expect(
      decodeRequest('readMemory', {
        session: 's1',
        space: 'virtual',
        address: '0xFFFFF800ABCD0000',
        length: 16,
      }),
    ).toEqual({ session: 's1', space: 'virtual', address: '0xfffff800abcd0000', length: 16 });
    expect(
      decodeRequest('readMemory', {
        session: 's1',
        space: 'physical',
        address: '0x0',
        length: MAX_MEMORY_READ,
      }),
    ).toMatchObject({ length: 0x10000 });
    expect(decodeRequest('disassemble', { session: 's1', address: '0x1000', count: 256 })).toEqual({
      session: 's1',
      address: '0x1000',
      count: 256,
    });
    expect(decodeRequest('structure', { session: 's1', kind: 'DEVICE_OBJECT', address: '0xAB' })).toEqual({
      session: 's1',
      kind: 'DEVICE_OBJECT',
      address: '0xab',
    });
  });

  test('refusals name the field', () => {
    const read = { session: 's1', space: 'virtual', address: '0x1000', length: 16 };
    const lengthRule = 'length must be a whole number from 1 to 65536';
    for (const length of [0, MAX_MEMORY_READ + 1, 1.5, -1, '16', null, 2 ** 53, Number.NaN, Infinity])
      expect(refusal('readMemory', { ...read, length }), String(length)).toBe(lengthRule);
    expect(refusal('readMemory', { ...read, length: undefined })).toBe('length is missing');
    for (const address of ['x; rm -rf', '0x', '1000', '0x12345678901234567', '0xg', 4096, `0x${huge}`])
      expect(refusal('readMemory', { ...read, address }), String(address).slice(0, 20)).toBe(
        'address must be a hex address like 0x1000',
      );
    expect(refusal('readMemory', { ...read, space: 'kernel' })).toBe(
      'space must be one of virtual, physical',
    );
    expect(refusal('disassemble', { session: 's1', address: '0x1', count: 257 })).toBe(
      'count must be a whole number from 1 to 256',
    );
    expect(refusal('structure', { session: 's1', kind: 'EPROCESS', address: '0x1' })).toMatch(
      /^kind must be one of DRIVER_OBJECT, DEVICE_OBJECT, /,
    );
  });
});

describe('flow', () => {
  test('a device and an operation, or a pending IRP', () => {
    expect(decodeRequest('flow', { session: 's1', device: 'dev-1', operation: 'ReadFile' })).toEqual({
      session: 's1',
      device: 'dev-1',
      operation: 'ReadFile',
    });
    // The client has no device to name for an IRP's flow.
    expect(
      decodeRequest('flow', { session: 's1', device: '', operation: 'WriteFile', irp: '0xFFFF0000' }),
    ).toEqual({ session: 's1', device: '', operation: 'WriteFile', irp: '0xffff0000' });
  });

  test('refusals name the field', () => {
    expect(refusal('flow', { session: 's1', device: 'x', operation: 'Format' })).toBe(
      'operation must be one of CreateFile, ReadFile, WriteFile, DeviceIoControl',
    );
    expect(refusal('flow', { session: 's1', device: '', operation: 'ReadFile' })).toBe(
      'device must be a device id (or give irp)',
    );
    expect(refusal('flow', { session: 's1', device: 'x', operation: 'ReadFile', irp: 'zz' })).toBe(
      'irp must be a hex address like 0x1000',
    );
  });
});

describe('comparisons and reports', () => {
  test('good requests', () => {
    expect(decodeRequest('diff', { baseline: 's1', primary: 's2' })).toEqual({
      baseline: 's1',
      primary: 's2',
    });
    expect(decodeRequest('report', { session: 's2', format: 'pdf', baseline: 's1' })).toEqual({
      session: 's2',
      format: 'pdf',
      baseline: 's1',
    });
  });

  test('refusals name the field', () => {
    expect(refusal('diff', { baseline: 's1' })).toBe('primary is missing');
    expect(refusal('report', { session: 's2', format: 'docx' })).toBe(
      'format must be one of html, pdf, json, csv',
    );
    expect(refusal('report', { session: 's2', format: 'html', baseline: '' })).toBe(
      'baseline must be a non-empty string',
    );
  });
});

describe('practice images', () => {
  const good = { scenario: 'infected', format: 'raw', size: 64 * 1024 * 1024 };

  test('good requests', () => {
    expect(decodeRequest('practiceImage', good)).toEqual(good);
    const full = { ...good, profile: 'win7-sp1-x86', seed: 0, infections: ['irp-hook', 'filter'] };
    expect(decodeRequest('practiceImage', full)).toEqual(full);
  });

  test('refusals name the field', () => {
    expect(refusal('practiceImage', { ...good, size: 1024 })).toBe(
      'size must be a whole number from 67108864 to 17179869184',
    );
    expect(refusal('practiceImage', { ...good, seed: -1 })).toBe(
      'seed must be a whole number from 0 to 2147483648',
    );
    expect(refusal('practiceImage', { ...good, format: 'vhd' })).toBe(
      'format must be one of raw, dmp-full, dmp-bitmap, vmware, elf',
    );
    expect(refusal('practiceImage', { ...good, infections: 'irp-hook' })).toBe(
      'infections must be a list of names',
    );
    expect(refusal('practiceImage', { ...good, infections: ['a', 5] })).toBe(
      'infections.1 must be a non-empty string',
    );
    expect(refusal('practiceImage', { ...good, infections: Array(65).fill('a') })).toBe(
      'infections must be at most 64 names',
    );
  });
});

describe('folders and captures', () => {
  test('browse: a folder, or null for the start folder', () => {
    expect(decodeRequest('browse', null)).toBeNull();
    expect(decodeRequest('browse', undefined)).toBeNull();
    expect(decodeRequest('browse', '/home')).toBe('/home');
    expect(refusal('browse', 5)).toBe('path must be a folder path or null');
  });

  test('captureTargets: absent, null and {} all mean the default folders', () => {
    expect(decodeRequest('captureTargets', undefined)).toEqual({});
    expect(decodeRequest('captureTargets', null)).toEqual({});
    expect(decodeRequest('captureTargets', { folder: '/run/qmp' })).toEqual({ folder: '/run/qmp' });
    expect(refusal('captureTargets', { folder: 5 })).toBe('folder must be a non-empty string');
  });

  test('capture: a QMP endpoint or a tool and VM', () => {
    expect(decodeRequest('capture', { source: { kind: 'qmp', endpoint: '/run/q.sock' } })).toEqual({
      source: { kind: 'qmp', endpoint: '/run/q.sock' },
    });
    const tool = { source: { kind: 'libvirt', vm: 'lab' }, name: 'lab.elf', role: 'baseline', label: 'Lab' };
    expect(decodeRequest('capture', tool)).toEqual(tool);
  });

  test('capture refusals name the field', () => {
    expect(refusal('capture', { source: { kind: 'ssh', vm: 'x' } })).toBe(
      'source.kind must be one of qmp, libvirt, virtualbox, vmware',
    );
    expect(refusal('capture', { source: { kind: 'qmp' } })).toBe('source.endpoint is missing');
    expect(refusal('capture', { source: { kind: 'qmp', endpoint: 'x', vm: 'y' } })).toBe(
      'source: unknown field "vm"',
    );
    expect(refusal('capture', { source: 'qmp' })).toBe('source must be an object');
    expect(refusal('capture', {})).toBe('source is missing');
  });
});

describe('cases', () => {
  test('annotate: a target, a status or null, a note ("" when absent)', () => {
    expect(
      decodeRequest('annotate', { session: 's1', target: 'finding:F001', status: 'benign', note: 'ok' }),
    ).toEqual({ session: 's1', target: 'finding:F001', status: 'benign', note: 'ok' });
    expect(decodeRequest('annotate', { session: 's1', target: 'driver:0x1', status: null })).toEqual({
      session: 's1',
      target: 'driver:0x1',
      status: null,
      note: '',
    });
  });

  test('annotate refusals name the field', () => {
    const rule =
      'target must be finding:<id>, driver:<va>, device:<va> or handler:<driver va>:<table>:<name>';
    expect(refusal('annotate', { session: 's1', target: '../x', status: null })).toBe(rule);
    expect(refusal('annotate', { session: 's1', target: 'finding: x', status: null })).toBe(rule);
    expect(refusal('annotate', { session: 's1', target: `finding:${'F'.repeat(400)}`, status: null })).toBe(
      'target must be a non-empty string of at most 400 characters (this one has 408)',
    );
    expect(refusal('annotate', { session: 's1', target: 'finding:F1', status: 'evil' })).toBe(
      'status must be one of suspicious, benign, to-check or null',
    );
    expect(
      refusal('annotate', { session: 's1', target: 'finding:F1', status: null, note: 'n'.repeat(20_001) }),
    ).toBe('note: at most 20,000 characters (this one has 20,001)');
  });

  test('updateCase: the empty string clears, the limits are 200 and 20,000 characters', () => {
    expect(decodeRequest('updateCase', { session: 's1', analyst: '', note: '' })).toEqual({
      session: 's1',
      analyst: '',
      note: '',
    });
    expect(decodeRequest('updateCase', { session: 's1', note: 'n'.repeat(20_000) }).note).toHaveLength(
      20_000,
    );
    expect(refusal('updateCase', { session: 's1', analyst: 'a'.repeat(201) })).toBe(
      'analyst: at most 200 characters (this one has 201)',
    );
    expect(refusal('updateCase', { session: 's1', note: 5 })).toBe('note must be a string');
  });

  test('hashImage: start or cancel', () => {
    expect(decodeRequest('hashImage', { session: 's1', action: 'cancel' })).toEqual({
      session: 's1',
      action: 'cancel',
    });
    expect(refusal('hashImage', { session: 's1', action: 'stop' })).toBe(
      'action must be one of start, cancel',
    );
  });
});

describe('extractImage', () => {
  test('exactly one of driver, module or address', () => {
    expect(decodeRequest('extractImage', { session: 's1', target: { driver: '\\Driver\\Disk' } })).toEqual({
      session: 's1',
      target: { driver: '\\Driver\\Disk' },
    });
    expect(decodeRequest('extractImage', { session: 's1', target: { module: 'disk.sys' } }).target).toEqual({
      module: 'disk.sys',
    });
    expect(
      decodeRequest('extractImage', { session: 's1', target: { address: '0x8A3C0000' } }).target,
    ).toEqual({
      address: '0x8a3c0000',
    });
  });

  test('refusals name the field', () => {
    const one = 'target: give exactly one of driver, module or address';
    expect(refusal('extractImage', { session: 's1', target: {} })).toBe(one);
    expect(refusal('extractImage', { session: 's1', target: { driver: 'x', module: 'y' } })).toBe(one);
    expect(refusal('extractImage', { session: 's1', target: { address: 'zz' } })).toBe(
      'target.address must be a hex address like 0x1000',
    );
    expect(refusal('extractImage', { session: 's1', target: { driver: 'x'.repeat(1025) } })).toBe(
      'target.driver must be a non-empty string of at most 1,024 characters (this one has 1,025)',
    );
  });
});

describe('desktop calls', () => {
  test('dialogs take a title', () => {
    expect(decodeDesktopRequest('pickImage', { title: 'Open memory image' })).toEqual({
      title: 'Open memory image',
    });
    expect(() => decodeDesktopRequest('pickDirectory', {})).toThrow('title is missing');
    expect(() => decodeDesktopRequest('pickImage', { title: 'x', parent: 1 })).toThrow(
      'pickImage request: unknown field "parent"',
    );
  });

  test('saveFile keeps a report file and only its fields (an extracted image carries more)', () => {
    const extracted = JSON.parse(
      '{"fileName":"disk.sys","mimeType":"application/octet-stream","content":"TVo=","encoding":"base64",' +
        '"record":{"sha256":"00"},"sections":[],"__proto__":{"polluted":true}}',
    ) as unknown;
    const file = decodeDesktopRequest('saveFile', extracted);
    expect(file).toEqual({
      fileName: 'disk.sys',
      mimeType: 'application/octet-stream',
      content: 'TVo=',
      encoding: 'base64',
    });
    expect(Object.hasOwn(file, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(file)).toBe(Object.prototype);
    // A report named after an image whose own name is already near the file system's 255.
    const longName = `irpscope-${'n'.repeat(250)}.html`;
    expect(
      decodeDesktopRequest('saveFile', { fileName: longName, mimeType: 'text/html', content: '' }).fileName,
    ).toBe(longName);
    expect(() =>
      decodeDesktopRequest('saveFile', { fileName: 'a', mimeType: 'text/csv', content: 1 }),
    ).toThrow('content must be a string');
    expect(() =>
      decodeDesktopRequest('saveFile', { fileName: 'a', mimeType: 'text/csv', content: '', encoding: 'hex' }),
    ).toThrow('encoding must be base64 or absent');
  });
});

describe('fleet requests', () => {
  test('a fleet read from Redis or a results folder, its name checked', () => {
    expect(decodeRequest('fleet', { source: { kind: 'results', path: '/r' } })).toEqual({
      source: { kind: 'results', path: '/r' },
    });
    expect(() =>
      decodeRequest('fleet', { source: { kind: 'redis', url: 'redis://127.0.0.1:6379' }, fleet: '../etc' }),
    ).toThrow(/^fleet is not a fleet name$/);
    expect(() => decodeRequest('fleet', { source: { kind: 'ftp', path: '/r' } })).toThrow(/source/);
    expect(() =>
      decodeRequest('openFleetHost', {
        source: { kind: 'results', path: '/r' },
        fleet: 'f',
        host: 'h',
        extra: 1,
      }),
    ).toThrow(/extra/);
  });
});
