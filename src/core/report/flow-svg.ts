// The request-path diagram as inline SVG for reports: the same graph (src/common/flow.ts) and the
// same layout (src/common/flow-layout.ts) as the workbench's diagram, drawn in print colours.
// Every label comes from the image and is escaped; nothing in it is active content.

import type { FlowGraph } from '../../common/api';
import { FLOW_KIND_LABELS } from '../../common/flow';
import { NODE_HEIGHT, NODE_WIDTH, layoutFlow } from '../../common/flow-layout';
import { escapeHtml } from './escape';

const PAD = 12;
const FILL: Record<string, string> = {
  api: '#eef1f6',
  ntdll: '#eef1f6',
  syscall: '#eef1f6',
  'io-manager': '#eef1f6',
  'symbolic-link': '#f4f6fa',
  device: '#ffffff',
  dispatch: '#f3f7ff',
  module: '#f5f5f5',
};

/** Cuts a label to what fits a node (about 6.6 px per character at 11 px). */
function fit(text: string, pixels: number): string {
  const max = Math.floor(pixels / 6.6);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function flowSvg(graph: FlowGraph, options: { title?: string; id?: string } = {}): string {
  const id = (options.id ?? 'flow').replace(/[^\w-]/g, '');
  const layout = layoutFlow(graph);
  let width = 0;
  let height = 0;
  for (const { x, y } of layout.positions.values()) {
    width = Math.max(width, x + NODE_WIDTH);
    height = Math.max(height, y + NODE_HEIGHT);
  }
  width += 2 * PAD;
  height += 2 * PAD;
  const at = (id: string) => {
    const p = layout.positions.get(id)!;
    return { x: p.x + PAD, y: p.y + PAD };
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(options.title ?? `${graph.operation} on ${graph.device}`)}">`,
  );
  parts.push(
    `<defs><marker id="${id}-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker>` +
      `<marker id="${id}-arrow-bad" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#b91c1c"/></marker></defs>`,
  );
  for (const edge of graph.edges) {
    if (!layout.positions.has(edge.from) || !layout.positions.has(edge.to)) continue;
    const from = at(edge.from);
    const to = at(edge.to);
    const colour = edge.suspicious ? '#b91c1c' : '#6b7280';
    const marker = edge.suspicious ? `${id}-arrow-bad` : `${id}-arrow`;
    let d: string;
    let labelAt: { x: number; y: number };
    if (layout.pathEdges.has(edge.id)) {
      const x = from.x + NODE_WIDTH / 2;
      d = `M${x},${from.y + NODE_HEIGHT} L${x},${to.y - 2}`;
      labelAt = { x: x + 6, y: (from.y + NODE_HEIGHT + to.y) / 2 + 4 };
    } else {
      const y1 = from.y + NODE_HEIGHT / 2;
      const y2 = to.y + NODE_HEIGHT / 2;
      const x1 = from.x + NODE_WIDTH;
      const mid = (x1 + to.x) / 2;
      d = `M${x1},${y1} L${mid},${y1} L${mid},${y2} L${to.x - 2},${y2}`;
      labelAt = { x: x1 + 6, y: y1 - 5 };
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${edge.suspicious ? 2 : 1.2}" marker-end="url(#${marker})"/>`,
    );
    if (edge.label)
      parts.push(
        `<text x="${labelAt.x}" y="${labelAt.y}" font-size="9.5" fill="${colour}">${escapeHtml(fit(edge.label, 140))}</text>`,
      );
  }
  for (const node of graph.nodes) {
    if (!layout.positions.has(node.id)) continue;
    const { x, y } = at(node.id);
    const bad = node.findings.length > 0;
    parts.push(
      `<g class="node kind-${node.kind}${bad ? ' suspicious' : ''}"><rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="5" fill="${bad ? '#fdecec' : (FILL[node.kind] ?? '#fff')}" stroke="${bad ? '#b91c1c' : '#9aa3b2'}" stroke-width="${bad ? 2 : 1}"/>`,
    );
    parts.push(
      `<text x="${x + 8}" y="${y + 14}" font-size="9" fill="#6b7280" letter-spacing="0.4">${escapeHtml(FLOW_KIND_LABELS[node.kind].toUpperCase())}${bad ? ` <tspan fill="#b91c1c" font-weight="700">⚠ ${escapeHtml(node.findings.join(' '))}</tspan>` : ''}</text>`,
    );
    parts.push(
      `<text x="${x + 8}" y="${y + 31}" font-size="11.5" font-weight="600" fill="#111827" font-family="ui-monospace,Consolas,monospace">${escapeHtml(fit(node.label, NODE_WIDTH - 16))}</text>`,
    );
    if (node.detail)
      parts.push(
        `<text x="${x + 8}" y="${y + 47}" font-size="10" fill="#374151" font-family="ui-monospace,Consolas,monospace">${escapeHtml(fit(node.detail, NODE_WIDTH - 16))}</text>`,
      );
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}
