// What a click on a flow node opens: its device, driver, module or finding row, or its address
// in the hex view — of the node's own image when a session is given (the comparison shows two).

import type { FlowNode } from '../../common/api';
import type { Navigate } from '../state/navigation';

export function openFlowNode(
  node: FlowNode,
  navigate: Navigate,
  notify: (kind: 'error' | 'info', text: string) => void,
  session?: string,
): void {
  const target = node.target;
  if (!target) return;
  const where = session ? { session } : {};
  if (target.view === 'hex' && target.address)
    navigate({ ...where, view: 'hex', hex: { space: 'virtual', address: target.address } });
  else if (target.view === 'devices')
    navigate({ ...where, view: 'devices', ...(target.id ? { device: target.id } : {}) });
  else if (target.view === 'drivers')
    navigate({ ...where, view: 'drivers', ...(target.id ? { driver: target.id } : {}) });
  else if (target.view === 'modules')
    navigate({ ...where, view: 'modules', ...(target.id ? { module: target.id.toLowerCase() } : {}) });
  else if (target.view === 'activity' && target.id) {
    const irp = target.id.startsWith('irp:');
    const id = irp ? target.id.slice(4) : target.id;
    navigate({
      ...where,
      view: 'activity',
      activity: irp ? { tab: 'irps', irp: id } : { tab: 'processes', process: id },
    });
  } else if (target.view === 'findings')
    navigate({ ...where, view: 'findings', ...(target.id ? { finding: target.id } : {}) });
  else notify('info', 'Nothing to open for this node.');
}
