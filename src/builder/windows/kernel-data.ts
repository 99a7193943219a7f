// Kernel data structures that identify the system: KUSER_SHARED_DATA (spec §1.14), the KDBG
// block and DBGKD_GET_VERSION64 (§1.15) with the Windows 8+ x64 encoding (§3.5), the x86 KPCR,
// the x64 low stub PROCESSOR_START_BLOCK (§3.1 item 2), and the routines whose bytes symbol-free
// readers decode (ObGetObjectType §1.8.4, KdCopyDataBlock §3.5).

import { ByteWriter, asciiBytes, utf16le } from '../bytes';
import { field, hasField, type KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import { PAGE } from '../memory/physical';

/** KDDEBUGGER_DATA64 field offsets (§1.15). */
export const KDBG = {
  OwnerTag: 0x10,
  Size: 0x14,
  KernBase: 0x18,
  BreakpointWithStatus: 0x20,
  PsLoadedModuleList: 0x48,
  PsActiveProcessHead: 0x50,
  PspCidTable: 0x58,
  ObpRootDirectoryObject: 0x98,
  ObpTypeObjectType: 0xa0,
  MmPfnDatabase: 0xc0,
  MmHighestUserAddress: 0x1c8,
  MmSystemRangeStart: 0x1d0,
  NtBuildLab: 0x208,
  KiProcessorBlock: 0x218,
  MmUnloadedDrivers: 0x220,
  SizeEProcess: 0x2a8,
  OffsetEprocessPeb: 0x2aa,
  OffsetEprocessParentCID: 0x2ac,
  OffsetEprocessDirectoryTableBase: 0x2ae,
} as const;

export interface KdbgValues {
  listHead: bigint;
  kernBase: bigint;
  psLoadedModuleList: bigint;
  psActiveProcessHead: bigint;
  pspCidTable: bigint;
  obpRootDirectoryObject: bigint;
  obpTypeObjectType: bigint;
  mmPfnDatabase: bigint;
  mmHighestUserAddress: bigint;
  mmSystemRangeStart: bigint;
  ntBuildLab: bigint;
  kiProcessorBlock: bigint;
  mmUnloadedDrivers: bigint;
}

/** The plain KDDEBUGGER_DATA64 block. x86 pointers are sign-extended as MSVC-built kernels store them. */
export function kdbgBlock(layout: KernelLayout, values: KdbgValues): Uint8Array {
  const w = new ByteWriter(layout.kdbgSize, 8);
  const p = (v: bigint) => (layout.arch === 'x86' ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : v);
  if (layout.arch === 'x86') {
    // 32-bit LIST_ENTRY cast over the 64-bit List: Flink/Blink in bytes 0–7, 8–15 stay zero.
    w.u32(0, Number(values.listHead & 0xffffffffn)).u32(4, Number(values.listHead & 0xffffffffn));
  } else {
    w.u64(0, values.listHead).u64(8, values.listHead);
  }
  w.ascii(KDBG.OwnerTag, 'KDBG').u32(KDBG.Size, layout.kdbgSize);
  w.u64(KDBG.KernBase, p(values.kernBase));
  w.u64(KDBG.PsLoadedModuleList, p(values.psLoadedModuleList));
  w.u64(KDBG.PsActiveProcessHead, p(values.psActiveProcessHead));
  w.u64(KDBG.PspCidTable, p(values.pspCidTable));
  w.u64(KDBG.ObpRootDirectoryObject, p(values.obpRootDirectoryObject));
  w.u64(KDBG.ObpTypeObjectType, p(values.obpTypeObjectType));
  w.u64(KDBG.MmPfnDatabase, p(values.mmPfnDatabase));
  w.u64(KDBG.MmHighestUserAddress, p(values.mmHighestUserAddress));
  w.u64(KDBG.MmSystemRangeStart, p(values.mmSystemRangeStart));
  w.u64(KDBG.NtBuildLab, p(values.ntBuildLab));
  w.u64(KDBG.KiProcessorBlock, p(values.kiProcessorBlock));
  w.u64(KDBG.MmUnloadedDrivers, p(values.mmUnloadedDrivers));
  // The EPROCESS offset fields were added after XP (whose block ends at 0x290).
  if (KDBG.OffsetEprocessDirectoryTableBase + 2 <= layout.kdbgSize) {
    w.u16(KDBG.SizeEProcess, layout.structs['_EPROCESS']?.size ?? 0);
    w.u16(KDBG.OffsetEprocessPeb, layout.structs['_EPROCESS']?.fields['Peb'] ?? 0);
    w.u16(
      KDBG.OffsetEprocessParentCID,
      layout.structs['_EPROCESS']?.fields['InheritedFromUniqueProcessId'] ?? 0,
    );
    w.u16(
      KDBG.OffsetEprocessDirectoryTableBase,
      layout.structs['_KPROCESS']?.fields['DirectoryTableBase'] ?? 0,
    );
  }
  return w.bytes;
}

function rol64(value: bigint, bits: number): bigint {
  const n = BigInt(bits & 63);
  return BigInt.asUintN(64, (value << n) | (value >> ((64n - n) % 64n)));
}

function ror64(value: bigint, bits: number): bigint {
  return rol64(value, (64 - (bits & 63)) & 63);
}

function byteswap64(value: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 8; i++) out = (out << 8n) | ((value >> BigInt(i * 8)) & 0xffn);
  return out;
}

/**
 * Encodes a KDBG block the way KdCopyDataBlock decodes it (§3.5): the inverse of
 * q ^= KiWaitNever; q = ROL(q, KiWaitNever & 0xFF); q ^= &KdpDataBlockEncoded; q = BSWAP(q); q ^= KiWaitAlways.
 */
export function encodeKdbg(
  block: Uint8Array,
  waitNever: bigint,
  waitAlways: bigint,
  encodedFlagVa: bigint,
): Uint8Array {
  const out = new Uint8Array(block.length);
  const inView = new DataView(block.buffer, block.byteOffset, block.length);
  const outView = new DataView(out.buffer);
  for (let at = 0; at + 8 <= block.length; at += 8) {
    let q = inView.getBigUint64(at, true);
    q ^= waitAlways;
    q = byteswap64(q);
    q ^= encodedFlagVa;
    q = ror64(q, Number(waitNever & 0xffn));
    q ^= waitNever;
    outView.setBigUint64(at, BigInt.asUintN(64, q), true);
  }
  return out;
}

/** The decoder, for the builder's own checks. */
export function decodeKdbg(
  block: Uint8Array,
  waitNever: bigint,
  waitAlways: bigint,
  encodedFlagVa: bigint,
): Uint8Array {
  const out = new Uint8Array(block.length);
  const inView = new DataView(block.buffer, block.byteOffset, block.length);
  const outView = new DataView(out.buffer);
  for (let at = 0; at + 8 <= block.length; at += 8) {
    let q = inView.getBigUint64(at, true);
    q ^= waitNever;
    q = rol64(q, Number(waitNever & 0xffn));
    q ^= encodedFlagVa;
    q = byteswap64(q);
    q ^= waitAlways;
    outView.setBigUint64(at, BigInt.asUintN(64, q), true);
  }
  return out;
}

/** DBGKD_GET_VERSION64 (§1.15). */
export function versionBlock(
  layout: KernelLayout,
  kernBase: bigint,
  psLoadedModuleList: bigint,
  debuggerDataList: bigint,
): Uint8Array {
  const w = new ByteWriter(0x28, 8);
  const p = (v: bigint) => (layout.arch === 'x86' ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : v);
  w.u16(0, 0x0f00 | 0x0f)
    .u16(2, layout.version.build)
    .u16(4, 6)
    .u16(6, layout.arch === 'x64' ? 0x46 : 0x45);
  w.u16(8, layout.arch === 'x64' ? 0x8664 : 0x14c)
    .u8(0xa, 0x2d)
    .u8(0xb, 0x01);
  w.u64(0x10, p(kernBase)).u64(0x18, p(psLoadedModuleList)).u64(0x20, p(debuggerDataList));
  return w.bytes;
}

/** KUSER_SHARED_DATA.NtBuildNumber on Windows 10 and later (§1.14, §3.3). */
const KUSER_NT_BUILD_NUMBER = 0x260;

export function writeKuserSharedData(
  layout: KernelLayout,
  vm: VirtualMemory,
  va: bigint,
  physicalPages: number,
): void {
  const w = new ByteWriter(PAGE, layout.pointerSize);
  const f = (name: string) => field(layout, '_KUSER_SHARED_DATA', name);
  const machine = layout.arch === 'x64' ? 0x8664 : 0x14c;
  w.u16(f('ImageNumberLow'), machine).u16(f('ImageNumberHigh'), machine);
  w.set(f('NtSystemRoot'), utf16le(layout.version.build < 6000 ? 'C:\\WINDOWS' : 'C:\\Windows'));
  // Windows 10 and later keep the build at 0x260 (§1.14): user mode reads it there, so it does not
  // move, and a kernel claiming such a build (--build) has it there even if its ISF's table lacks it.
  if (layout.version.build >= 10240)
    w.u32(
      hasField(layout, '_KUSER_SHARED_DATA', 'NtBuildNumber') ? f('NtBuildNumber') : KUSER_NT_BUILD_NUMBER,
      layout.version.build,
    );
  w.u32(f('NtProductType'), layout.version.productType).u8(f('ProductTypeIsValid'), 1);
  w.u32(f('NtMajorVersion'), layout.version.major).u32(f('NtMinorVersion'), layout.version.minor);
  if (layout.version.build >= 6000) w.u32(0x2b4, 0x7ffeffff); // Reserved1 (§1.14)
  w.u32(f('SuiteMask'), 0x110).u8(f('KdDebuggerEnabled'), 0);
  w.u32(f('NumberOfPhysicalPages'), physicalPages);
  vm.write(va, w.bytes);
}

/** x64 PROCESSOR_START_BLOCK in low memory, matched by MemProcFS' low-stub test (§3.1 item 2). */
export function lowStubBytes(kernelEntry: bigint, dtb: number): Uint8Array {
  const w = new ByteWriter(0x100, 8);
  w.u64(0, 0x00000001000600e9n | (0x2en << 8n)); // jmp over the block; CompletionFlag / selectors
  w.u64(0x70, kernelEntry);
  w.u64(0xa0, BigInt(dtb));
  return w.bytes;
}

/** ObGetObjectType: its last MOVZX reg32, byte [rip+disp32] names ObHeaderCookie (§1.8.4, Volatility 2's finder). */
export function obGetObjectTypeBytes(at: bigint, cookieVa: bigint, typeTableVa: bigint): Uint8Array {
  const code: number[] = [];
  const rip = (target: bigint, instructionEnd: number) => {
    const rel = Number(BigInt.asIntN(32, target - (at + BigInt(instructionEnd))));
    return [rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff];
  };
  code.push(0x48, 0x8d, 0x41, 0xd0); // lea rax, [rcx-30h]
  code.push(0x0f, 0xb6, 0x49, 0xe8); // movzx ecx, byte [rcx-18h]
  code.push(0x48, 0xc1, 0xe8, 0x08); // shr rax, 8
  code.push(0x0f, 0xb6, 0xc0); // movzx eax, al
  code.push(0x48, 0x33, 0xc1); // xor rax, rcx
  code.push(0x0f, 0xb6, 0x0d, ...rip(cookieVa, code.length + 7)); // movzx ecx, byte [rip+ObHeaderCookie]
  code.push(0x48, 0x33, 0xc1); // xor rax, rcx
  code.push(0x48, 0x8d, 0x0d, ...rip(typeTableVa, code.length + 7)); // lea rcx, [rip+ObTypeIndexTable]
  code.push(0x48, 0x8b, 0x04, 0xc1); // mov rax, [rcx+rax*8]
  code.push(0xc3);
  return Uint8Array.from(code);
}

/** x86 ObGetObjectType for Windows 7 (no cookie): movzx eax, byte [eax-0Ch]; mov eax, [ObTypeIndexTable+eax*4]. */
export function obGetObjectTypeX86Bytes(typeTableVa: bigint): Uint8Array {
  const t = Number(typeTableVa & 0xffffffffn);
  return Uint8Array.of(
    0x8b,
    0xff,
    0x55,
    0x8b,
    0xec,
    0x8b,
    0x45,
    0x08,
    0x0f,
    0xb6,
    0x40,
    0xf4,
    0x8b,
    0x04,
    0x85,
    t & 0xff,
    (t >>> 8) & 0xff,
    (t >>> 16) & 0xff,
    (t >>> 24) & 0xff,
    0x5d,
    0xc2,
    0x04,
    0x00,
  );
}

/**
 * KdCopyDataBlock as Windows 8.1+ compiles it (§3.5): CMP byte [KdpDataBlockEncoded],0; LEA of
 * KdDebuggerDataBlock; MOV of KiWaitNever; per-qword ROL/XOR/BSWAP; XOR with KiWaitAlways; RET.
 */
export function kdCopyDataBlockBytes(
  at: bigint,
  encodedFlagVa: bigint,
  kdbgVa: bigint,
  waitNeverVa: bigint,
  waitAlwaysVa: bigint,
  kdbgSize: number,
  build: number,
): Uint8Array {
  const code: number[] = [];
  const rip = (target: bigint, instructionEnd: number) => {
    const rel = Number(BigInt.asIntN(32, target - (at + BigInt(instructionEnd))));
    return [rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff];
  };
  const quads = kdbgSize / 8;
  code.push(0x80, 0x3d, ...rip(encodedFlagVa, code.length + 7), 0x00); // cmp byte [rip+KdpDataBlockEncoded], 0
  code.push(0x4c, 0x8b, 0xc1); // mov r8, rcx
  code.push(0x48, 0x8d, 0x15, ...rip(kdbgVa, code.length + 7)); // lea rdx, [rip+KdDebuggerDataBlock]
  if (build < 10240) code.push(0x41, 0xb9, kdbgSize & 0xff, kdbgSize >> 8, 0, 0); // mov r9d, KDBG size (pre-10)
  const je = code.length;
  code.push(0x74, 0x00); // je copy_plain (patched below)
  code.push(0x41, 0xb9, quads & 0xff, quads >> 8, 0, 0); // mov r9d, size/8
  code.push(0x4c, 0x8b, 0x15, ...rip(waitNeverVa, code.length + 7)); // mov r10, [rip+KiWaitNever]
  const loop = code.length;
  code.push(0x48, 0x8b, 0x02); // mov rax, [rdx]
  code.push(0x49, 0x33, 0xc2); // xor rax, r10
  code.push(0x41, 0x8b, 0xca); // mov ecx, r10d
  code.push(0x48, 0xd3, 0xc0); // rol rax, cl
  code.push(0x4c, 0x8d, 0x1d, ...rip(encodedFlagVa, code.length + 7)); // lea r11, [rip+KdpDataBlockEncoded]
  code.push(0x49, 0x33, 0xc3); // xor rax, r11
  code.push(0x48, 0x0f, 0xc8); // bswap rax
  code.push(0x48, 0x33, 0x05, ...rip(waitAlwaysVa, code.length + 7)); // xor rax, [rip+KiWaitAlways]
  code.push(0x49, 0x89, 0x00); // mov [r8], rax
  code.push(0x48, 0x83, 0xc2, 0x08); // add rdx, 8
  code.push(0x49, 0x83, 0xc0, 0x08); // add r8, 8
  code.push(0x41, 0x83, 0xe9, 0x01); // sub r9d, 1
  code.push(0x75, (loop - (code.length + 2)) & 0xff); // jnz loop
  code.push(0xc3); // ret
  code[je + 1] = code.length - (je + 2);
  code.push(0x48, 0x8b, 0xfa, 0xb9, quads & 0xff, quads >> 8, 0, 0, 0x48, 0xa5); // copy_plain: mov rdi,rdx; mov ecx,n; movsq
  code.push(0xc3);
  return Uint8Array.from(code);
}

/**
 * KeCapturePersistentThreadState's part that fills the dump header's debugger data: it stores
 * &KdDebuggerDataBlock at DUMP_HEADER64+0x80 and calls KdCopyDataBlock to copy the block to +0x2080,
 * after an earlier call (the header's other fields) that a reader must pass over.
 */
export function capturePersistentThreadStateBytes(
  at: bigint,
  kdbgVa: bigint,
  kdCopyDataBlockVa: bigint,
  earlierCalleeVa: bigint,
): Uint8Array {
  const code: number[] = [];
  const rel = (target: bigint, instructionEnd: number) => {
    const value = Number(BigInt.asIntN(32, target - (at + BigInt(instructionEnd))));
    return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
  };
  code.push(0x48, 0x89, 0x5c, 0x24, 0x08); // mov [rsp+8], rbx
  code.push(0x57); // push rdi
  code.push(0x48, 0x83, 0xec, 0x20); // sub rsp, 20h
  code.push(0x48, 0x8b, 0xd9); // mov rbx, rcx (the header)
  code.push(0xe8, ...rel(earlierCalleeVa, code.length + 5)); // call (another part of the header)
  code.push(0x48, 0x8d, 0x05, ...rel(kdbgVa, code.length + 7)); // lea rax, [rip+KdDebuggerDataBlock]
  code.push(0x48, 0x89, 0x83, 0x80, 0x00, 0x00, 0x00); // mov [rbx+80h], rax
  code.push(0x48, 0x8d, 0x8b, 0x80, 0x20, 0x00, 0x00); // lea rcx, [rbx+2080h]
  code.push(0xe8, ...rel(kdCopyDataBlockVa, code.length + 5)); // call KdCopyDataBlock
  code.push(0x48, 0x8b, 0x5c, 0x24, 0x30); // mov rbx, [rsp+30h]
  code.push(0x48, 0x83, 0xc4, 0x20); // add rsp, 20h
  code.push(0x5f); // pop rdi
  code.push(0xc3); // ret
  return Uint8Array.from(code);
}

/** IopInvalidDeviceRequest: completes the IRP with STATUS_INVALID_DEVICE_REQUEST. */
export function invalidDeviceRequestBytes(arch: 'x86' | 'x64'): Uint8Array {
  if (arch === 'x64') {
    return Uint8Array.of(
      0x48,
      0x83,
      0xec,
      0x28, // sub rsp, 28h
      0xc7,
      0x42,
      0x30,
      0x10,
      0x00,
      0x00,
      0xc0, // mov dword [rdx+30h], C0000010h
      0x33,
      0xd2, // xor edx, edx
      0x48,
      0x8b,
      0xca, // mov rcx, rdx
      0x48,
      0x83,
      0xc4,
      0x28, // add rsp, 28h
      0xb8,
      0x10,
      0x00,
      0x00,
      0xc0, // mov eax, C0000010h
      0xc3,
    );
  }
  return Uint8Array.of(
    0x8b,
    0xff,
    0x55,
    0x8b,
    0xec, // mov edi,edi; push ebp; mov ebp,esp
    0x8b,
    0x4d,
    0x0c, // mov ecx, [ebp+0Ch]
    0xc7,
    0x41,
    0x18,
    0x10,
    0x00,
    0x00,
    0xc0, // mov dword [ecx+18h], C0000010h
    0x32,
    0xd2, // xor dl, dl
    0xb8,
    0x10,
    0x00,
    0x00,
    0xc0, // mov eax, C0000010h
    0x5d,
    0xc2,
    0x08,
    0x00, // pop ebp; ret 8
  );
}

export function ntBuildLab(layout: KernelLayout): Uint8Array {
  const v = layout.version;
  const arch = layout.arch === 'x64' ? 'amd64fre' : 'x86fre';
  const branch: Record<string, string> = {
    xp: 'xpsp.080413-2111',
    '2003': 'srv03_sp2_rtm.070216-1710',
    win7: 'win7sp1_ldr.170913-0600',
    win8: 'win8_rtm.120725-1247',
    win81: 'winblue_ltsb_escrow.200827-1700',
    win10: 'rs1_release.210604-1844',
    win11: 'co_release.210604-1628',
  };
  return asciiBytes(`${v.build}.${v.revision}.${arch}.${branch[v.family] ?? 'release'}`);
}
