import { Handle, Position, type NodeProps, type Node } from '@xyflow/react';
import type { FlowNode } from '../../common/api';
import { FLOW_KIND_LABELS } from '../../common/flow';
import { Text } from '../components/Text';

export type FlowNodeData = { node: FlowNode; severity: string | null; differs?: boolean; compact?: boolean };
export type FlowRfNode = Node<FlowNodeData, 'irp'>;

export function FlowNodeView({ data }: NodeProps<FlowRfNode>) {
  const { node, severity, differs, compact } = data;
  const suspicious = node.findings.length > 0;
  return (
    <div
      className={`flow-node kind-${node.kind}${suspicious ? ` suspicious sev-border-${severity ?? 'high'}` : ''}${node.target ? ' clickable' : ''}${differs ? ' differs' : ''}${compact ? ' compact' : ''}`}
      data-testid={`flow-node-${node.kind}`}
      data-suspicious={suspicious ? 'true' : 'false'}
      data-differs={differs ? 'true' : 'false'}
      title={node.target ? 'Click to open' : undefined}
    >
      <Handle id="top" type="target" position={Position.Top} isConnectable={false} />
      <Handle id="left" type="target" position={Position.Left} isConnectable={false} />
      <div className="flow-kind">
        {FLOW_KIND_LABELS[node.kind]}
        {differs && (
          <span className="flow-differs" title="Differs from the other image of the comparison">
            ≠
          </span>
        )}
        {suspicious && (
          <span
            className="flow-alert"
            title={`${node.findings.length} finding(s): ${node.findings.join(', ')}`}
          >
            ⚠ {node.findings.length}
          </span>
        )}
      </div>
      <div className="flow-label">
        <Text value={node.label} />
      </div>
      {node.detail && (
        <div className="flow-detail">
          <Text value={node.detail} />
        </div>
      )}
      <Handle id="bottom" type="source" position={Position.Bottom} isConnectable={false} />
      <Handle id="right" type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}
