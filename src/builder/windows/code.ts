// Plausible machine code for kernel and driver images: functions with the prologues MSVC emits,
// bodies of common instructions, int3 padding between functions. Everything decodes as valid
// x86/x64 code, so a disassembler sees routines, not noise.

import type { Rng } from '../rng';

export type CodeArch = 'x86' | 'x64';

type Emit = (r: SmallRng) => number[];

/** call rel32 to a routine within ±16 KiB, i.e. inside the same image. */
function nearCall(r: SmallRng): number[] {
  const rel = (r.int(0x8000) - 0x4000) & 0xfffffff0;
  return [0xe8, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff];
}

/** First byte of the control-transfer instructions in the body tables (jcc short, call, call [mem]). */
const CONTROL_OPCODES = new Set([0x74, 0x75, 0xe8, 0xff]);

/** A tiny LCG for per-page generation, where speed matters more than quality. */
class SmallRng {
  constructor(private state: number) {}
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
  int(n: number): number {
    return this.next() % n;
  }
  byte(): number {
    return this.next() >>> 24;
  }
}

const X64_PROLOGUES: number[][] = [
  [0x48, 0x89, 0x5c, 0x24, 0x08], // mov [rsp+8], rbx
  [0x48, 0x89, 0x6c, 0x24, 0x10], // mov [rsp+10h], rbp
  [0x48, 0x89, 0x74, 0x24, 0x18], // mov [rsp+18h], rsi
  [0x40, 0x53], // push rbx
  [0x57], // push rdi
  [0x41, 0x56], // push r14
  [0x4c, 0x8b, 0xdc], // mov r11, rsp
  [0x48, 0x8b, 0xc4], // mov rax, rsp
];

const X64_BODY: Emit[] = [
  () => [0x48, 0x8b, 0xd9], // mov rbx, rcx
  () => [0x48, 0x8b, 0xf2], // mov rsi, rdx
  (r) => [0x48, 0x8b, 0x41, r.byte() & 0x78], // mov rax, [rcx+disp8]
  (r) => [0x8b, 0x42, r.byte() & 0x3c], // mov eax, [rdx+disp8]
  () => [0x85, 0xc0], // test eax, eax
  () => [0x48, 0x85, 0xdb], // test rbx, rbx
  (r) => [0x74, 0x08 + (r.byte() & 0x1f)], // je short
  (r) => [0x75, 0x04 + (r.byte() & 0x1f)], // jne short
  () => [0x33, 0xc0], // xor eax, eax
  () => [0x33, 0xd2], // xor edx, edx
  (r) => [0xb8, r.byte(), r.byte(), 0, 0], // mov eax, imm32
  (r) => [0xba, r.byte(), r.byte(), 0, 0xc0], // mov edx, imm32 (NTSTATUS)
  (r) => [0x48, 0x8b, 0x05, r.byte(), r.byte(), 0x1f, 0], // mov rax, [rip+disp32]
  (r) => [0x48, 0x8d, 0x0d, r.byte(), r.byte(), 0x0e, 0], // lea rcx, [rip+disp32]
  (r) => nearCall(r), // call rel32 (nearby)
  (r) => [0xff, 0x15, r.byte(), r.byte(), 0x0a, 0], // call [rip+disp32] (import)
  (r) => [0x89, 0x43, r.byte() & 0x7c], // mov [rbx+disp8], eax
  (r) => [0x48, 0x89, 0x7b, r.byte() & 0x78], // mov [rbx+disp8], rdi
  (r) => [0x83, 0xf8, r.byte() & 0x1f], // cmp eax, imm8
  (r) => [0x0f, 0xb6, 0x43, r.byte() & 0x3f], // movzx eax, byte [rbx+disp8]
  () => [0x0f, 0x1f, 0x44, 0x00, 0x00], // nop dword [rax+rax]
  () => [0x90], // nop
];

const X86_PROLOGUES: number[][] = [
  [0x8b, 0xff, 0x55, 0x8b, 0xec], // mov edi, edi; push ebp; mov ebp, esp (hot-patch prologue)
  [0x55, 0x8b, 0xec], // push ebp; mov ebp, esp
  [0x53, 0x56, 0x57], // push ebx; push esi; push edi
];

const X86_BODY: Emit[] = [
  () => [0x8b, 0x45, 0x08], // mov eax, [ebp+8]
  () => [0x8b, 0x4d, 0x0c], // mov ecx, [ebp+0Ch]
  (r) => [0x8b, 0x70, r.byte() & 0x3c], // mov esi, [eax+disp8]
  () => [0x85, 0xc0], // test eax, eax
  (r) => [0x74, 0x06 + (r.byte() & 0x1f)], // je short
  (r) => [0x75, 0x04 + (r.byte() & 0x1f)], // jne short
  () => [0x33, 0xc0], // xor eax, eax
  (r) => [0xb8, r.byte(), r.byte(), 0, 0xc0], // mov eax, imm32
  (r) => [0x83, 0xec, (r.byte() & 0x3c) + 4], // sub esp, imm8
  (r) => nearCall(r), // call rel32 (nearby)
  (r) => [0xff, 0x15, r.byte() & 0xfc, r.byte(), 0x4a + (r.byte() & 3), 0x80], // call [imp] (abs32)
  (r) => [0x89, 0x46, r.byte() & 0x3c], // mov [esi+disp8], eax
  (r) => [0x6a, r.byte() & 0x3f], // push imm8
  () => [0x50], // push eax
  () => [0x56], // push esi
  () => [0x90], // nop
];

const X64_EPILOGUE = [
  [0x48, 0x8b, 0x5c, 0x24, 0x30, 0x48, 0x83, 0xc4, 0x20, 0x5f, 0xc3], // mov rbx,[rsp+30h]; add rsp,20h; pop rdi; ret
  [0x48, 0x83, 0xc4, 0x28, 0xc3], // add rsp, 28h; ret
  [0x5b, 0xc3], // pop rbx; ret
];

const X86_EPILOGUE = [
  [0x5f, 0x5e, 0x5b, 0x5d, 0xc2, 0x08, 0x00], // pop edi; pop esi; pop ebx; pop ebp; ret 8
  [0x8b, 0xe5, 0x5d, 0xc2, 0x08, 0x00], // mov esp, ebp; pop ebp; ret 8
  [0x5d, 0xc3], // pop ebp; ret
];

function bodyInstruction(table: Emit[], r: SmallRng, plain: boolean): number[] {
  for (;;) {
    const bytes = table[r.int(table.length)]!(r);
    if (!plain || !CONTROL_OPCODES.has(bytes[0]!)) return bytes;
  }
}

/** A function: prologue, body (the first `plainFirst` body instructions transfer no control), epilogue. */
function emitFunction(arch: CodeArch, r: SmallRng, bodyInstructions: number, plainFirst = 0): number[] {
  const out: number[] = [];
  const table = arch === 'x64' ? X64_BODY : X86_BODY;
  if (arch === 'x64') {
    out.push(...X64_PROLOGUES[r.int(X64_PROLOGUES.length)]!);
    out.push(0x48, 0x83, 0xec, 0x20 + (r.int(4) << 4)); // sub rsp, imm8
  } else {
    out.push(...X86_PROLOGUES[r.int(X86_PROLOGUES.length)]!);
  }
  for (let i = 0; i < bodyInstructions; i++) out.push(...bodyInstruction(table, r, i < plainFirst));
  out.push(...(arch === 'x64' ? X64_EPILOGUE : X86_EPILOGUE)[r.int(3)]!);
  return out;
}

/** Fills a whole page with functions and int3 padding, reproducibly from `seed`. */
export function fillCodePage(out: Uint8Array, arch: CodeArch, seed: number): void {
  const r = new SmallRng(seed ^ 0x9e3779b9);
  let at = 0;
  out.fill(0xcc);
  // A page may begin in the middle of a function: start with a tail of body instructions.
  while (at < out.length) {
    const fn = emitFunction(arch, r, 3 + r.int(24));
    const room = out.length - at;
    const bytes = fn.length <= room ? fn : fn.slice(0, room);
    out.set(bytes, at);
    at += bytes.length;
    at = Math.ceil((at + 1) / 16) * 16; // int3 padding to the next 16-byte boundary
  }
  // A page must never look like the start of a PE image.
  if (out[0] === 0x4d && out[1] === 0x5a) out[0] = 0xcc;
}

/** A dispatch routine with no control transfer among its first instructions. */
export function dispatchRoutine(arch: CodeArch, rng: Rng): Uint8Array {
  const r = new SmallRng(rng.next());
  return Uint8Array.from(emitFunction(arch, r, 6 + r.int(20), 4));
}

/** `jmp rel32` at `from` to `to`: an in-module thunk (legitimate) or an inline hook (when `to` leaves the module). */
export function jmpRel32(from: bigint, to: bigint): Uint8Array {
  const rel = Number(BigInt.asIntN(32, to - (from + 5n)));
  const out = new Uint8Array(5);
  out[0] = 0xe9;
  new DataView(out.buffer).setInt32(1, rel, true);
  return out;
}

export type InlineHookForm = 'jmp-rel32' | 'push-ret' | 'jmp-rip-indirect' | 'mov-rax-jmp';

/** Patch bytes for the inline-hook forms of spec §4.5. */
export function inlineHookPatch(form: InlineHookForm, at: bigint, target: bigint): Uint8Array {
  const view = (n: number) => {
    const bytes = new Uint8Array(n);
    return { bytes, dv: new DataView(bytes.buffer) };
  };
  switch (form) {
    case 'jmp-rel32':
      return jmpRel32(at, target);
    case 'push-ret': {
      // push imm32; ret  (x86)
      const { bytes, dv } = view(6);
      bytes[0] = 0x68;
      dv.setUint32(1, Number(target & 0xffffffffn), true);
      bytes[5] = 0xc3;
      return bytes;
    }
    case 'jmp-rip-indirect': {
      // jmp qword [rip+0]; dq target  (x64, 14 bytes)
      const { bytes, dv } = view(14);
      bytes.set([0xff, 0x25, 0, 0, 0, 0]);
      dv.setBigUint64(6, target, true);
      return bytes;
    }
    case 'mov-rax-jmp': {
      // mov rax, imm64; jmp rax  (x64, 12 bytes)
      const { bytes, dv } = view(12);
      bytes[0] = 0x48;
      bytes[1] = 0xb8;
      dv.setBigUint64(2, target, true);
      bytes[10] = 0xff;
      bytes[11] = 0xe0;
      return bytes;
    }
  }
}

/** Position-independent code as a rootkit drops it in pool memory: a stub that calls onwards. */
export function shellcodeStub(arch: CodeArch, rng: Rng, continueAt: bigint): Uint8Array {
  const body = dispatchRoutine(arch, rng);
  const tail =
    arch === 'x64'
      ? inlineHookPatch('mov-rax-jmp', 0n, continueAt)
      : inlineHookPatch('push-ret', 0n, continueAt);
  const out = new Uint8Array(body.length - 1 + tail.length);
  out.set(body.subarray(0, body.length - 1));
  out.set(tail, body.length - 1);
  return out;
}
