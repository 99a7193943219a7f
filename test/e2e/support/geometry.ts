// Where things land on the screen: an element the analyst is sent to must be in sight — inside the
// window, above the status bar, and not covered by anything else.

import type { Locator, Page } from '@playwright/test';
import { expect } from './fixtures';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The element is wholly above the status bar, inside the window, and what is drawn at its centre. */
export async function expectInSight(page: Page, element: Locator, what: string): Promise<void> {
  await expect(element, what).toHaveCount(1);
  const found = await element.evaluate((node) => {
    const box = node.getBoundingClientRect();
    const status = node.ownerDocument.querySelector('.statusbar')!.getBoundingClientRect();
    const hit = node.ownerDocument.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return {
      top: box.top,
      bottom: box.bottom,
      statusTop: status.top,
      hitInside: hit !== null && node.contains(hit),
    };
  });
  expect(found.top, `${what}: top`).toBeGreaterThanOrEqual(0);
  // Half a pixel: rows sit at fractional positions.
  expect(found.bottom, `${what}: bottom above the status bar`).toBeLessThanOrEqual(found.statusTop + 0.5);
  expect(found.hitInside, `${what}: not covered`).toBe(true);
}

/** Every direct child of the element keeps to one line (none is taller than `maxHeight`). */
export async function expectOneLine(element: Locator, maxHeight: number, what: string): Promise<void> {
  const heights = await element.evaluate((node) =>
    [...node.children].map((child) => ({
      text: child.textContent ?? '',
      height: child.getBoundingClientRect().height,
    })),
  );
  for (const child of heights)
    expect(child.height, `${what}: "${child.text.trim()}" is on one line`).toBeLessThanOrEqual(maxHeight);
}

/**
 * The texts of the matched elements whose contents, as laid out, run past their own right edge
 * (cut by an ellipsis or hidden overflow). Measured on the laid-out text, which clipping hides
 * from scrollWidth when the clipping element sits inside another.
 */
export async function cutShort(elements: Locator): Promise<Array<string | null>> {
  return elements.evaluateAll((all) =>
    all
      .filter((element) => {
        const range = element.ownerDocument.createRange();
        range.selectNodeContents(element);
        return range.getBoundingClientRect().right > element.getBoundingClientRect().right + 1;
      })
      .map((element) => element.textContent),
  );
}
