// An object callback's OB_CALLBACK_ENTRY holds a pre- and a post-operation routine: both are rows
// of the Callbacks view, so each needs an id of its own.

import { expect, test } from 'vitest';
import type { Callback, Handler } from '../../../src/common/model';
import { callbackId } from '../../../src/renderer/util/callbacks';

function objectCallback(operation: 'pre' | 'post', address: string): Callback {
  const routine = { address, verdict: 'own-image' } as Handler;
  return {
    kind: 'process-object',
    slot: 0,
    entry: '0xffffc00000001000',
    block: '0xffffc00000000fe0',
    routine,
    owner: 'WdFilter.sys',
    context: '0x0',
    component: '328010',
    device: null,
    driver: null,
    operation,
  };
}

test("the pre- and post-operation routines of one record are two rows, the pre one keeping the record's address", () => {
  const pre = objectCallback('pre', '0xfffff80000001000');
  const post = objectCallback('post', '0xfffff80000002000');
  expect(callbackId(pre)).toBe(pre.entry);
  expect(callbackId(post)).not.toBe(callbackId(pre));
  expect(callbackId(post).startsWith(post.entry)).toBe(true);
});
