// One verdict per handler address (spec §4.5): own image, the kernel's default routine, the
// kernel, an expected port/class/framework module, another module, no module, or a routine
// whose first instructions jump out of its module.

import { hex } from '../../common/hex';
import type { HandlerVerdict } from '../../common/findings';
import type { Handler } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import { disassemble, Prologues } from './inline';
import { ModuleSet, type KnownModule } from './module-set';

/** An image range a driver object declares (DriverStart, DriverSize). */
export interface DeclaredImage {
  base: bigint;
  size: number;
}

export interface HandlerJudge {
  /**
   * `declared`: the driver's own range, given when its module may be among those whose loader
   * entries the image lost; an address in it is then the driver's own rather than in no module.
   */
  judge(
    address: bigint,
    own: KnownModule | null,
    index: number,
    name: string,
    withDisassembly: boolean,
    declared?: DeclaredImage,
  ): Handler;
}

export function createHandlerJudge(
  memory: KernelMemory,
  modules: ModuleSet,
  defaultHandler: bigint | null,
  symbolAt: (address: bigint) => string | null,
  /** The kernel's routines' opening code, some of it perhaps already read. */
  prologues: Prologues = new Prologues(memory),
): HandlerJudge {
  const bitness = memory.pointerSize === 8 ? 64 : 32;

  const baseVerdict = (
    address: bigint,
    owner: KnownModule | null,
    own: KnownModule | null,
    declared: DeclaredImage | undefined,
  ): HandlerVerdict => {
    if (!owner) {
      const inDeclared =
        declared !== undefined && address >= declared.base && address < declared.base + BigInt(declared.size);
      return inDeclared ? 'own-image' : 'no-module';
    }
    if (own && owner.base === own.base) return 'own-image';
    if (defaultHandler !== null && address === defaultHandler) return 'kernel-default';
    if (ModuleSet.isKernel(owner)) return 'kernel';
    if (ModuleSet.isDelegate(owner)) return 'delegated';
    return 'other-module';
  };

  const inline = (address: bigint, owner: KnownModule): Handler['target'] | null => {
    const transfer = prologues.transfer(address);
    if (!transfer) return null;
    const destination = modules.owner(transfer.target);
    if (destination && destination.base === owner.base) return null;
    // Calls to other modules are ordinary code (imports); a call into no module is not.
    if (transfer.kind === 'call' && destination) return null;
    return { address: hex(transfer.target), module: destination?.name ?? null };
  };

  return {
    judge(address, own, index, name, withDisassembly, declared) {
      const owner = modules.owner(address);
      let verdict = baseVerdict(address, owner, own, declared);
      let target: Handler['target'] | null = null;
      // Each routine's first transfer is decoded once (Prologues); where it leads is judged here.
      if (owner && verdict !== 'other-module') {
        target = inline(address, owner);
        if (target) verdict = 'inline-patched';
      }
      const handler: Handler = {
        index,
        name,
        address: hex(address),
        module: owner?.name ?? null,
        offset: owner ? hex(address - owner.base) : null,
        symbol: symbolAt(address),
        verdict,
      };
      if (target) handler.target = target;
      if (
        withDisassembly ||
        verdict === 'inline-patched' ||
        verdict === 'no-module' ||
        verdict === 'other-module'
      ) {
        const code = disassemble(prologues.read, address, bitness);
        if (code) handler.disassembly = code;
      }
      return handler;
    },
  };
}
