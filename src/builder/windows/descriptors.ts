// Each processor's KPCR with its interrupt and global descriptor tables, as Windows sets them up,
// and KiProcessorBlock (which KDBG names) pointing at each processor's KPRCB.
//
// Facts: x86 KPCR { …, SelfPcr @0x1C, Prcb @0x20, …, IDT @0x38, GDT @0x3C, …, PrcbData @0x120 }
// and KIDTENTRY { Offset, Selector, Access, ExtendedOffset } (ReactOS sdk/include/ndk/i386/ketypes.h);
// x64 _KPCR { GdtBase @0x0, Self @0x18, CurrentPrcb @0x20, IdtBase @0x38, Prcb @0x180 } and
// _KIDTENTRY64 { OffsetLow @0, Selector @2, IstIndex/Type/Dpl/Present @4, OffsetMiddle @6,
// OffsetHigh @8 } in every ISF of ../shared/isf. The x86 GDT selectors (KGDT_R0_CODE 0x08 …
// KGDT_NMI_TSS 0x58) are ReactOS's ketypes.h; x64's (KGDT64_R0_CODE 0x10 … KGDT64_SYS_TSS 0x40)
// its amd64 ketypes.h. The handlers are those WinDbg's !idt shows: ntoskrnl's traps and
// KiSystemService (0x2E), KiUnexpectedInterruptN stubs between KiStartUnexpectedRange and
// KiEndUnexpectedRange for unconnected x86 vectors, the HAL's clock, IPI, APIC-error, profile
// and performance interrupts (0xD1, 0xE1, 0xE3, 0xFD, 0xFE on the ACPI HAL); and on x86 a
// connected device interrupt enters the DispatchCode of its KINTERRUPT, in nonpaged pool
// (XP/2003: DispatchCode @0x3C, Size 0x1E4; Windows 7: @0x58, Size 0x278, from Volatility 2's
// PDB-derived vtypes; ServiceRoutine @0xC; Type 0x16, InterruptObject — the keyboard's at 0x93
// on XP, i8042prt!I8042KeyboardInterruptService), a copy of KiInterruptTemplate into which
// KeInitializeInterrupt wrote the object's own address (`mov edi, imm32`, WRK intobj.c). On
// x64 (Windows 8 on) every vector from 0x30 enters ntoskrnl's KiIsrThunk, 8 bytes a vector.
// The builder keeps its own copy: the truth must not come from the engine.

import { field, hasField, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { DriverContext, DriverSet } from './drivers';
import type { LoadedModule } from './modules';

const VECTORS = 256;
const X86_GDT_BYTES = 0x400;
const X64_GDT_BYTES = 0x58;
const KINTERRUPT_TYPE = 0x16;
const KEYBOARD_VECTOR = 0x93;
/** x64 device interrupts connected (vector, driver, service routine), as !idt lists them on a VM. */
const X64_CONNECTED: Array<[number, string, string]> = [
  [0x70, 'ACPI', 'ACPIInterruptServiceRoutine'],
  [0x80, 'i8042prt', 'I8042KeyboardInterruptService'],
  [0x90, 'i8042prt', 'I8042MouseInterruptService'],
];

export interface IdtEntryModel {
  processor: number;
  vector: number;
  /** The gate's address in the IDT (set by write()). */
  entry: bigint;
  /** Where the gate points. */
  handler: bigint;
  /** The routine judged: the handler, or a KINTERRUPT's ServiceRoutine. */
  routine: bigint;
  /** The KINTERRUPT whose DispatchCode the gate enters (x86 device interrupts), else null. */
  interrupt: bigint | null;
  /** Where that object's DispatchCode jumps (KiInterruptDispatch), else null. */
  dispatch: bigint | null;
  /** The module holding the routine; null for code in pool. */
  owner: string | null;
  planted: boolean;
}

export interface ProcessorModel {
  kpcr: bigint;
  prcb: bigint;
  idt: bigint;
  gdt: bigint;
}

interface Gate {
  vector: number;
  handler: bigint;
  owner: string;
  /** x86 task gates (NMI, double fault, machine check) carry a TSS selector, no offset. */
  taskSelector?: number;
  ist?: number;
}

const X86_NAMED: Array<[number, string]> = [
  [0x00, 'KiTrap00'],
  [0x01, 'KiTrap01'],
  [0x03, 'KiTrap03'],
  [0x04, 'KiTrap04'],
  [0x05, 'KiTrap05'],
  [0x06, 'KiTrap06'],
  [0x07, 'KiTrap07'],
  [0x09, 'KiTrap09'],
  [0x0a, 'KiTrap0A'],
  [0x0b, 'KiTrap0B'],
  [0x0c, 'KiTrap0C'],
  [0x0d, 'KiTrap0D'],
  [0x0e, 'KiTrap0E'],
  [0x0f, 'KiTrap0F'],
  [0x10, 'KiTrap10'],
  [0x11, 'KiTrap11'],
  [0x13, 'KiTrap13'],
  [0x2a, 'KiGetTickCount'],
  [0x2b, 'KiCallbackReturn'],
  [0x2c, 'KiRaiseAssertion'],
  [0x2d, 'KiDebugService'],
  [0x2e, 'KiSystemService'],
];

const X64_NAMED: Array<[number, string, number?]> = [
  [0x00, 'KiDivideErrorFault'],
  [0x01, 'KiDebugTrapOrFault'],
  [0x02, 'KiNmiInterrupt', 3],
  [0x03, 'KiBreakpointTrap'],
  [0x04, 'KiOverflowTrap'],
  [0x05, 'KiBoundFault'],
  [0x06, 'KiInvalidOpcodeFault'],
  [0x07, 'KiNpxNotAvailableFault'],
  [0x08, 'KiDoubleFaultAbort', 1],
  [0x09, 'KiNpxSegmentOverrunAbort'],
  [0x0a, 'KiInvalidTssFault'],
  [0x0b, 'KiSegmentNotPresentFault'],
  [0x0c, 'KiStackFault'],
  [0x0d, 'KiGeneralProtectionFault'],
  [0x0e, 'KiPageFault'],
  [0x10, 'KiFloatingErrorFault'],
  [0x11, 'KiAlignmentFault'],
  [0x12, 'KiMcheckAbort', 2],
  [0x13, 'KiXmmException'],
  [0x1f, 'KiApcInterrupt'],
  [0x29, 'KiRaiseSecurityCheckFailure'],
  [0x2c, 'KiRaiseAssertion'],
  [0x2d, 'KiDebugServiceTrap'],
  [0x2f, 'KiDpcInterrupt'],
  [0xe1, 'KiIpiInterrupt'],
];

const HAL_X86: Array<[number, string]> = [
  [0xd1, 'HalpClockInterrupt'],
  [0xe1, 'HalpIpiHandler'],
  [0xe3, 'HalpLocalApicErrorService'],
  [0xfd, 'HalpProfileInterrupt'],
  [0xfe, 'HalpPerfInterrupt'],
];

/** A handler's first bytes: a frame set up and a return, nothing that leaves its module. */
function handlerBytes(arch: 'x86' | 'x64', vector: number): Uint8Array {
  return arch === 'x64'
    ? Uint8Array.of(0x6a, vector & 0x7f, 0x55, 0x48, 0x8b, 0xec, 0x90, 0xc3) // push imm8; push rbp; mov rbp,rsp; nop; ret
    : Uint8Array.of(0x68, vector, 0, 0, 0, 0x90, 0x90, 0xc3); // push imm32; nop; nop; ret
}

export class DescriptorTables {
  readonly processors: ProcessorModel[] = [];
  readonly entries: IdtEntryModel[] = [];
  private readonly gates = new Map<number, Gate>();
  private readonly hooked = new Set<number>();
  private readonly layout: KernelLayout;
  private keyboard: { service: bigint; owner: string } | null = null;
  /** KiInterruptDispatch, where an x86 interrupt object's DispatchCode jumps. */
  private dispatcher = 0n;
  /** x64 with KiIsrThunk: the device interrupts connected, each in every processor's KPRCB.InterruptObject. */
  private readonly connected = new Map<number, { service: bigint; owner: string }>();

  constructor(private readonly ctx: DriverContext) {
    this.layout = ctx.layout;
  }

  /** The handlers, placed with the code every boot places (their module offsets never move). */
  prepare(drivers: DriverSet): void {
    const { kernel, vm, loader, halModule, kernelModule } = this.ctx;
    const arch = this.layout.arch;
    const named = arch === 'x64' ? X64_NAMED : X86_NAMED;
    for (const [vector, name, ist] of named) {
      const handler = kernel.symbol(name);
      vm.write(handler, handlerBytes(arch, vector));
      this.gates.set(vector, { vector, handler, owner: kernelModule.name, ...(ist ? { ist } : {}) });
    }
    if (arch === 'x86') {
      // NMI, double fault and machine check are task gates to their own TSS.
      this.gates.set(0x02, { vector: 0x02, handler: 0n, owner: kernelModule.name, taskSelector: 0x58 });
      this.gates.set(0x08, { vector: 0x08, handler: 0n, owner: kernelModule.name, taskSelector: 0x50 });
      this.gates.set(0x12, { vector: 0x12, handler: 0n, owner: kernelModule.name, taskSelector: 0xa0 });
      for (const [vector, name] of HAL_X86) this.gates.set(vector, this.halGate(vector, halModule, name));
      this.dispatcher = kernel.symbol('KiInterruptDispatch');
      vm.write(this.dispatcher, handlerBytes(arch, 0));
      const i8042 = drivers.findDriver('i8042prt')?.module;
      if (i8042)
        this.keyboard = {
          service: loader.routine(i8042, 'I8042KeyboardInterruptService'),
          owner: i8042.name,
        };
    }
    if (arch === 'x64' && hasField(this.layout, '_KPRCB', 'InterruptObject')) {
      for (const [vector, name, routine] of X64_CONNECTED) {
        const module = drivers.findDriver(name)?.module;
        if (module)
          this.connected.set(vector, { service: loader.routine(module, routine), owner: module.name });
      }
    }
    // Every other vector: 8-byte stubs in ntoskrnl (x86 KiUnexpectedInterruptN; x64 KiIsrThunk
    // from 0x30, KxUnexpectedInterrupt0 below it).
    const stubs = kernel.symbol(arch === 'x64' ? 'KiIsrThunk' : 'KiStartUnexpectedRange', VECTORS * 8);
    const low = arch === 'x64' ? kernel.symbol('KxUnexpectedInterrupt0', 0x30 * 8) : stubs;
    for (let vector = 0; vector < VECTORS; vector++) {
      if (this.gates.has(vector)) continue;
      const handler =
        vector >= 0x30 || arch === 'x86' ? stubs + BigInt(vector * 8) : low + BigInt(vector * 8);
      vm.write(handler, handlerBytes(arch, vector));
      this.gates.set(vector, { vector, handler, owner: kernelModule.name });
    }
  }

  private halGate(vector: number, hal: LoadedModule, name: string): Gate {
    return { vector, handler: this.ctx.loader.routine(hal, name), owner: hal.name };
  }

  /** The rootkit's handler for `vector` on every processor. */
  hook(vector: number, handler: bigint, owner: string): void {
    this.gates.set(vector, { vector, handler, owner });
    this.hooked.add(vector);
  }

  /**
   * The KPCRs (CPU 0's in the kernel's data: 0xFFDFF000 on XP and 2003, KiInitialPCR later;
   * the others in pool), their tables and KiProcessorBlock. Call last: it allocates pool.
   */
  write(legacyKpcr: bigint | null, processors: number): void {
    const { kernel, vm, nonPaged } = this.ctx;
    const x64 = this.layout.arch === 'x64';
    const ptr = BigInt(this.layout.pointerSize);
    const prcbOffset = x64 ? 0x180n : 0x120n;
    const block = kernel.symbol('KiProcessorBlock', Number(ptr) * 64);
    vm.write(block, new Uint8Array(Number(ptr) * 64)); // no processor beyond the last
    // The whole KPRCB where the layout has one (its timer table is in it), else the fields read.
    const size = hasField(this.layout, '_KPRCB', 'TimerTable')
      ? Number(prcbOffset) + sizeOf(this.layout, '_KPRCB')
      : x64
        ? 0x200
        : 0x140;
    // Windows 10 has no KiInitialPCR: the loader allocates processor 0's KPCR as the others'.
    const initial = this.layout.symbols.size === 0 || this.layout.symbols.has('KiInitialPCR');
    const allocate = () =>
      size > 0xe00 ? nonPaged.allocateBig(size) : nonPaged.allocate('None', size).dataVa;
    for (let cpu = 0; cpu < processors; cpu++) {
      const kpcr =
        cpu === 0 ? (legacyKpcr ?? (initial ? kernel.symbol('KiInitialPCR', size) : allocate())) : allocate();
      // x64's IDT is a page of its own (256 × 16 bytes), as Windows allocates it.
      const idt = x64 ? nonPaged.allocateBig(VECTORS * 16) : nonPaged.allocate('None', VECTORS * 8).dataVa;
      const gdt = nonPaged.allocate('None', x64 ? X64_GDT_BYTES : X86_GDT_BYTES).dataVa;
      const prcb = kpcr + prcbOffset;
      if (x64) {
        vm.writePtr(kpcr, gdt);
        vm.writePtr(kpcr + 0x18n, kpcr);
        vm.writePtr(kpcr + 0x20n, prcb);
        vm.writePtr(kpcr + 0x38n, idt);
      } else {
        vm.writePtr(kpcr + 0x1cn, kpcr);
        vm.writePtr(kpcr + 0x20n, prcb);
        vm.writePtr(kpcr + 0x38n, idt);
        vm.writePtr(kpcr + 0x3cn, gdt);
      }
      vm.writePtr(block + BigInt(cpu) * ptr, prcb);
      this.processors.push({ kpcr, prcb, idt, gdt });
      vm.write(gdt, x64 ? x64Gdt(kpcr) : x86Gdt(kpcr));
      this.writeIdt(cpu, idt, prcb);
    }
  }

  private writeIdt(cpu: number, idt: bigint, prcb: bigint): void {
    const { vm } = this.ctx;
    const x64 = this.layout.arch === 'x64';
    const size = x64 ? 16 : 8;
    const bytes = new Uint8Array(VECTORS * size);
    const view = new DataView(bytes.buffer);
    for (let vector = 0; vector < VECTORS; vector++) {
      const at = vector * size;
      let gate = this.gates.get(vector)!;
      let interrupt: bigint | null = null;
      let routine = gate.handler;
      if (!x64 && vector === KEYBOARD_VECTOR && this.keyboard && !this.hooked.has(vector)) {
        interrupt = this.writeInterrupt(this.keyboard.service);
        gate = {
          vector,
          handler: interrupt + BigInt(this.interruptLayout().dispatchCode),
          owner: this.keyboard.owner,
        };
        routine = this.keyboard.service;
      }
      const device = x64 && !this.hooked.has(vector) ? this.connected.get(vector) : undefined;
      if (device) {
        interrupt = this.writeVectorObject(prcb, vector, device.service);
        routine = device.service;
        gate = { ...gate, owner: device.owner };
      }
      if (gate.taskSelector !== undefined) {
        view.setUint16(at + 2, gate.taskSelector, true);
        view.setUint16(at + 4, 0x8500, true); // present, task gate
        continue;
      }
      // Interrupt gates; 3, 4, 0x2A-0x2E are callable from user mode (DPL 3).
      const dpl = [0x03, 0x04, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e].includes(vector) ? 3 : 0;
      const handler = gate.handler;
      view.setUint16(at, Number(handler & 0xffffn), true);
      view.setUint16(at + 2, x64 ? 0x10 : 0x08, true);
      if (x64) {
        view.setUint8(at + 4, gate.ist ?? 0);
        view.setUint8(at + 5, 0x8e | (dpl << 5));
        view.setUint16(at + 6, Number((handler >> 16n) & 0xffffn), true);
        view.setUint32(at + 8, Number((handler >> 32n) & 0xffffffffn), true);
      } else {
        view.setUint16(at + 4, 0x8e00 | (dpl << 13), true);
        view.setUint16(at + 6, Number((handler >> 16n) & 0xffffn), true);
      }
      this.entries.push({
        processor: cpu,
        vector,
        entry: idt + BigInt(at),
        handler,
        routine,
        interrupt,
        dispatch: interrupt === null || x64 ? null : this.dispatcher,
        owner: gate.owner,
        planted: this.hooked.has(vector),
      });
    }
    vm.write(idt, bytes);
  }

  /**
   * An x64 connected interrupt object (Type, Size, ServiceRoutine, Vector where the layout puts
   * them) in this processor's KPRCB.InterruptObject slot for its vector.
   */
  private writeVectorObject(prcb: bigint, vector: number, service: bigint): bigint {
    const { vm, nonPaged } = this.ctx;
    const layout = this.layout;
    const size = sizeOf(layout, '_KINTERRUPT');
    const object = nonPaged.allocate('None', size).dataVa;
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, KINTERRUPT_TYPE, true);
    view.setUint16(2, size, true);
    view.setBigUint64(field(layout, '_KINTERRUPT', 'ServiceRoutine'), service, true);
    view.setUint32(field(layout, '_KINTERRUPT', 'Vector'), vector, true);
    vm.write(object, bytes);
    vm.writePtr(prcb + BigInt(field(layout, '_KPRCB', 'InterruptObject') + vector * 8), object);
    return object;
  }

  /** KINTERRUPT.DispatchCode and sizeof(KINTERRUPT) of this release (Volatility 2's PDB-derived vtypes). */
  private interruptLayout(): { dispatchCode: number; size: number } {
    return this.layout.version.build < 6000
      ? { dispatchCode: 0x3c, size: 0x1e4 }
      : { dispatchCode: 0x58, size: 0x278 };
  }

  /**
   * A connected interrupt object: Type, Size, ServiceRoutine and the DispatchCode the gate enters,
   * KiInterruptTemplate as KeInitializeInterrupt copies it: the trap frame built, then
   * `mov edi, <this object>` and a jump to the dispatcher in ntoskrnl.
   */
  private writeInterrupt(service: bigint): bigint {
    const { vm, nonPaged } = this.ctx;
    const { dispatchCode, size } = this.interruptLayout();
    const object = nonPaged.allocate('None', size).dataVa;
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, KINTERRUPT_TYPE, true);
    view.setUint16(2, size, true);
    view.setUint32(0x0c, Number(service), true);
    const frame = [
      [0x6a, 0x00], // push 0 (the error code an interrupt does not push)
      [0x55, 0x53, 0x56, 0x57], // push ebp, ebx, esi, edi
      [0x83, 0xec, 0x54], // sub esp, 0x54
      [0x8b, 0xec], // mov ebp, esp
      [0x89, 0x45, 0x44, 0x89, 0x4d, 0x40, 0x89, 0x55, 0x3c], // save eax, ecx, edx in the frame
      [0xbb, 0x30, 0x00, 0x00, 0x00], // mov ebx, KGDT_R0_PCR
      [0x66, 0x8e, 0xe3], // mov fs, bx
    ].flat();
    const code = object + BigInt(dispatchCode);
    const objectAt = dispatchCode + frame.length + 1;
    const jumpAt = objectAt + 4;
    bytes.set(frame, dispatchCode);
    bytes[objectAt - 1] = 0xbf; // mov edi, imm32
    view.setUint32(objectAt, Number(object), true);
    bytes[jumpAt] = 0xe9; // jmp rel32 to KiInterruptDispatch
    view.setInt32(jumpAt + 1, Number(this.dispatcher - (code + BigInt(jumpAt - dispatchCode + 5))), true);
    vm.write(object, bytes);
    return object;
  }
}

function descriptor(base: bigint, limit: number, access: number, flags: number): number[] {
  const b = Number(base & 0xffffffffn);
  return [
    limit & 0xff,
    (limit >>> 8) & 0xff,
    b & 0xff,
    (b >>> 8) & 0xff,
    (b >>> 16) & 0xff,
    access,
    (flags & 0xf0) | ((limit >>> 16) & 0x0f),
    (b >>> 24) & 0xff,
  ];
}

/** The x86 GDT: null, ring-0/ring-3 code and data, the TSS, the PCR and TEB segments, the fault TSSs. */
function x86Gdt(kpcr: bigint): Uint8Array {
  const gdt = new Uint8Array(X86_GDT_BYTES);
  const tss = kpcr + 0x100n;
  const set = (selector: number, bytes: number[]) => gdt.set(bytes, selector);
  set(0x08, descriptor(0n, 0xfffff, 0x9b, 0xc0));
  set(0x10, descriptor(0n, 0xfffff, 0x93, 0xc0));
  set(0x18, descriptor(0n, 0xfffff, 0xfb, 0xc0));
  set(0x20, descriptor(0n, 0xfffff, 0xf3, 0xc0));
  set(0x28, descriptor(tss, 0x20ab, 0x8b, 0x00));
  set(0x30, descriptor(kpcr, 0x1, 0x93, 0xc0));
  set(0x38, descriptor(0x7ffde000n, 0xfff, 0xf3, 0x40));
  set(0x40, descriptor(0x400n, 0xffff, 0xf2, 0x00));
  set(0x50, descriptor(tss, 0x68, 0x89, 0x00));
  set(0x58, descriptor(tss, 0x68, 0x89, 0x00));
  return gdt;
}

/** The x64 GDT: ring-0 code and data, ring-3 compatibility code, data and 64-bit code, the TSS (16 bytes), the compatibility TEB. */
function x64Gdt(kpcr: bigint): Uint8Array {
  const gdt = new Uint8Array(X64_GDT_BYTES);
  const set = (selector: number, bytes: number[]) => gdt.set(bytes, selector);
  set(0x10, descriptor(0n, 0, 0x9b, 0x20));
  set(0x18, descriptor(0n, 0, 0x93, 0xc0));
  set(0x20, descriptor(0n, 0xfffff, 0xfb, 0xc0));
  set(0x28, descriptor(0n, 0xfffff, 0xf3, 0xc0));
  set(0x30, descriptor(0n, 0, 0xfb, 0x20));
  const tss = kpcr + 0x100n;
  set(0x40, descriptor(tss, 0x67, 0x8b, 0x00));
  gdt.set(
    [
      Number((tss >> 32n) & 0xffn),
      Number((tss >> 40n) & 0xffn),
      Number((tss >> 48n) & 0xffn),
      Number((tss >> 56n) & 0xffn),
    ],
    0x48,
  );
  set(0x50, descriptor(0n, 0x3c00, 0xf3, 0x40));
  return gdt;
}
