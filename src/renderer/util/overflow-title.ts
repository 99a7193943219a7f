// Text cut off with an ellipsis is still readable: hovering an element whose text does not fit
// shows the whole text as its tooltip (escaped as everywhere else; an element with a title of its
// own keeps it). One listener for the whole window, so every table, stack and node has it.

import { visibleText } from './format';

/** How far up from the hovered node to look for the element that clips the text. */
const DEPTH = 4;
const MARK = 'clippedTitle';

function clipped(element: HTMLElement): boolean {
  return element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).overflowX !== 'visible';
}

export function showClippedText(event: MouseEvent): void {
  let element = event.target instanceof HTMLElement ? event.target : null;
  for (let depth = 0; element && depth < DEPTH; depth++, element = element.parentElement) {
    const ours = element.dataset[MARK] === 'true';
    if (element.hasAttribute('title') && !ours) return;
    if (!clipped(element)) {
      // A reused element (virtualised rows) may have been given the title of its old text.
      if (ours) {
        element.removeAttribute('title');
        delete element.dataset[MARK];
      }
      continue;
    }
    const text = visibleText((element.textContent ?? '').trim());
    if (text) {
      element.title = text;
      element.dataset[MARK] = 'true';
    }
    return;
  }
}
