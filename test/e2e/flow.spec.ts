// The request-path diagrams as drawn, on the demo case: no edge label lies on another label or a
// node, no edge runs through another edge's label (the keylogger's pending read, with its
// completion routine; a hooked and a patched dispatch routine); the zoom buttons cover no node;
// the two diagrams of the comparison are drawn at a zoom that can be read, and every node and edge
// of both is shown whenever the other image's path arrives.

import type { Locator, Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { overlap, type Box } from './support/geometry';

/** Text drawn at 12 px is still about 10 px at this zoom. */
const READABLE_ZOOM = 0.8;

// The browser's own types, for the functions that run in the page (this file compiles for Node).
declare const DOMMatrix: new (transform: string) => { a: number };
declare function getComputedStyle(element: unknown): { transform: string };
interface SvgPath {
  getTotalLength(): number;
  getPointAtLength(at: number): { matrixTransform(matrix: unknown): { x: number; y: number } };
  getScreenCTM(): unknown;
}

/** What is wrong with the drawing in `canvas`: labels on labels or nodes, edges through labels. */
async function drawingProblems(canvas: Locator): Promise<string[]> {
  await expect(canvas.locator('.react-flow__edge-textwrapper').first()).toBeVisible();
  return canvas.evaluate((root) => {
    const box = (element: typeof root) => {
      const r = element.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const hit = (a: Box, b: Box) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const edges = [...root.querySelectorAll('.react-flow__edge')].map((edge) => {
      const background = edge.querySelector('.react-flow__edge-textbg');
      const text = edge.querySelector('.react-flow__edge-text')?.textContent ?? '';
      return {
        id: edge.getAttribute('data-id') ?? edge.id,
        text,
        label: background ? box(background) : null,
        path: edge.querySelector('path.react-flow__edge-path') as unknown as SvgPath | null,
      };
    });
    const nodes = [...root.querySelectorAll('.react-flow__node')].map((n) => ({
      id: n.getAttribute('data-id'),
      box: box(n),
    }));
    const problems: string[] = [];
    for (const a of edges) {
      if (!a.label) continue;
      const inner = {
        x: a.label.x + 1,
        y: a.label.y + 1,
        width: a.label.width - 2,
        height: a.label.height - 2,
      };
      for (const node of nodes) if (hit(inner, node.box)) problems.push(`"${a.text}" lies on ${node.id}`);
      for (const b of edges) {
        if (b === a) continue;
        if (b.label && hit(inner, b.label)) problems.push(`"${a.text}" lies on "${b.text}"`);
        if (!b.path) continue;
        const length = b.path.getTotalLength();
        const matrix = b.path.getScreenCTM();
        for (let at = 0; at <= length; at += 2) {
          const point = b.path.getPointAtLength(at).matrixTransform(matrix);
          if (
            point.x > inner.x &&
            point.x < inner.x + inner.width &&
            point.y > inner.y &&
            point.y < inner.y + inner.height
          ) {
            problems.push(`${b.id} runs through "${a.text}"`);
            break;
          }
        }
      }
    }
    return problems;
  });
}

async function zoomBarCoversNoNode(page: Page, diagram: Locator, what: string): Promise<void> {
  const bar = (await diagram.locator('[data-testid="flow-zoom"]').boundingBox()) as Box;
  for (const node of await diagram.locator('.react-flow__node').all()) {
    const box = await node.boundingBox();
    if (box) expect(overlap(bar, box), `${what}: the zoom buttons cover a node`).toBe(false);
  }
}

test('the pending keyboard read: labels apart, edges clear of labels, zoom buttons over nothing', async ({
  workbench: page,
}) => {
  await page.click('[data-testid="nav-activity"]');
  await page.click('[data-testid="activity-tab-irps"]');
  await page.locator('[data-testid="table-body-irps"] [role="row"]', { hasText: 'KeyboardClass0' }).click();
  await page.click('[data-testid="irp-flow"]');
  const canvas = page.locator('[data-testid="view-flow"] .flow-canvas');
  await expect(canvas.locator('[data-testid="flow-node-completion"]')).toBeVisible();
  expect(await drawingProblems(canvas)).toEqual([]);
  await zoomBarCoversNoNode(page, page.locator('[data-testid="view-flow"] .flow-diagram'), 'IRP flow');
  await page.screenshot({ path: test.info().outputPath('irp-flow.png') });

  // The zoom buttons work.
  const scale = () =>
    canvas.locator('.react-flow__viewport').evaluate((v) => new DOMMatrix(getComputedStyle(v).transform).a);
  const before = await scale();
  await page.click('[data-testid="flow-zoom"] button[aria-label="Zoom in"]');
  await expect.poll(scale).toBeGreaterThan(before);
});

test('a hooked and a patched dispatch routine: labels apart, edges clear of labels', async ({
  workbench: page,
}) => {
  for (const [driver, operation] of [
    ['\\Driver\\Disk', 'DeviceIoControl'],
    ['\\FileSystem\\Ntfs', 'CreateFile'],
  ] as const) {
    await page.click('[data-testid="nav-drivers"]');
    await page.fill('[data-testid="table-drivers"] input.filter', driver);
    await page
      .locator('[data-testid="table-body-drivers"] [role="row"]', { hasText: driver })
      .first()
      .click();
    await page.click('[data-testid="driver-detail"] button:has-text("Flow diagram")');
    await page.click(`[data-testid="flow-op-${operation}"]`);
    const canvas = page.locator('[data-testid="view-flow"] .flow-canvas');
    await expect(
      canvas.locator('[data-testid="flow-node-dispatch"][data-suspicious="true"]').first(),
    ).toBeVisible();
    expect(await drawingProblems(canvas), `${driver} ${operation}`).toEqual([]);
    await page.screenshot({ path: test.info().outputPath(`${operation}.png`) });
  }
});

test('the two paths of the comparison are drawn at a readable zoom, the zoom buttons over no node', async ({
  workbench: page,
}) => {
  await page.click('[data-testid="nav-diff"]');
  await page
    .locator('[data-testid="table-body-diff-differences"] [role="row"]', { hasText: 'KeyboardClass0' })
    .first()
    .click();
  for (const side of ['baseline', 'image']) {
    const canvas = page.locator(`[data-testid="diff-flow-${side}"]`);
    await expect(canvas.locator('.react-flow__node').first()).toBeVisible();
    await expect
      .poll(() =>
        canvas
          .locator('.react-flow__viewport')
          .evaluate((v) => new DOMMatrix(getComputedStyle(v).transform).a),
      )
      .toBeGreaterThanOrEqual(READABLE_ZOOM);
    await canvas.scrollIntoViewIfNeeded();
    await zoomBarCoversNoNode(page, canvas.locator('xpath=..'), side);
  }
  await page.locator('[data-testid="diff-flow-image"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: test.info().outputPath('diff-flows.png') });
});

test('each path of the comparison shows every node and edge, however late the other image’s path arrives', async ({
  workbench: page,
}) => {
  // The two paths are asked for together, the baseline's first; the image's answer is held back
  // 0–30 ms, so that it lands at every moment of the baseline diagram's first drawing and marks
  // its differing nodes (nodes made afresh between React Flow's measuring them and its next
  // render were left hidden, and their edges undrawn).
  let held = 0;
  let asked = 0;
  const edgesOf: Record<string, number> = {};
  await page.route('**/api/flow', async (route) => {
    const side = asked++ % 2 === 0 ? 'baseline' : 'image';
    const response = await route.fetch();
    const answer = (await response.json()) as { value: { edges: unknown[] } };
    edgesOf[side] = answer.value.edges.length;
    if (side === 'image') await new Promise((resolve) => setTimeout(resolve, held));
    await route.fulfill({ response });
  });
  await page.click('[data-testid="nav-diff"]');
  await page
    .locator('[data-testid="table-body-diff-differences"] [role="row"]', { hasText: 'KeyboardClass0' })
    .first()
    .click();
  const operations = ['ReadFile', 'WriteFile', 'DeviceIoControl'];
  // Each operation's diagrams are drawn anew; the nodes of the last ones are marked to be told apart.
  const fresh = (side: string) =>
    page.locator(`[data-testid="diff-flow-${side}"] .react-flow__node:not([data-old])`);
  for (let ms = 0; ms <= 30; ms++) {
    held = ms;
    asked = 0;
    await page
      .locator('.flow-pair .react-flow__node')
      .evaluateAll((all) => all.forEach((n) => n.setAttribute('data-old', '')));
    await page.click(`[data-testid="diff-flow-op-${operations[ms % operations.length]}"]`);
    for (const side of ['baseline', 'image']) await expect(fresh(side).first()).toBeAttached();
    await expect
      .poll(
        () =>
          page
            .locator('.flow-pair .react-flow__node')
            .evaluateAll((all) => all.filter((n) => !n.checkVisibility({ visibilityProperty: true })).length),
        { message: `nodes left hidden, the image's path held back ${ms} ms` },
      )
      .toBe(0);
    for (const side of ['baseline', 'image'])
      await expect(
        page.locator(`[data-testid="diff-flow-${side}"] .react-flow__edge`),
        `${side}'s edges, the image's path held back ${ms} ms`,
      ).toHaveCount(edgesOf[side]!);
  }
});
