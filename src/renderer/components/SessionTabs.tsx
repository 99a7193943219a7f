// One tab per open image. Tabs shrink to share the bar; when they cannot shrink further the strip
// scrolls, with ‹ › controls of its own (no scrollbar is laid over the tabs), "+ Open" stays
// outside the strip, and the active tab is scrolled into view however it became active (a click,
// history, a link to another image).

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type WheelEvent } from 'react';
import type { SessionSummary } from '../../common/api';
import { visibleText } from '../util/format';
import { Text } from './Text';

interface Props {
  sessions: SessionSummary[];
  activeId: string | null;
  onSelect: (id: string) => void;
  onClose: (session: SessionSummary) => void;
  onOpen: () => void;
}

export function SessionTabs({ sessions, activeId, onSelect, onClose, onOpen }: Props) {
  const strip = useRef<HTMLElement>(null);
  const [overflow, setOverflow] = useState({ left: false, right: false });

  const measure = useCallback(() => {
    const element = strip.current;
    if (!element) return;
    const left = element.scrollLeft > 0.5;
    const right = element.scrollLeft + element.clientWidth < element.scrollWidth - 0.5;
    setOverflow((o) => (o.left === left && o.right === right ? o : { left, right }));
  }, []);

  useLayoutEffect(() => {
    const element = strip.current;
    if (!element) return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    for (const child of element.children) observer.observe(child);
    measure();
    return () => observer.disconnect();
  }, [measure, sessions.length]);

  useEffect(() => {
    strip.current
      ?.querySelector('.session-tab.active')
      ?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    measure();
  }, [activeId, sessions.length, measure]);

  const scrollBy = (direction: -1 | 1): void => {
    const element = strip.current;
    if (element) element.scrollBy({ left: direction * Math.max(120, element.clientWidth * 0.8) });
  };
  // A vertical wheel over the strip scrolls it sideways.
  const onWheel = (event: WheelEvent<HTMLElement>): void => {
    if (strip.current && Math.abs(event.deltaY) > Math.abs(event.deltaX))
      strip.current.scrollLeft += event.deltaY;
  };

  return (
    <div className="sessions-bar">
      <button
        type="button"
        className="ghost tab-scroll"
        onClick={() => scrollBy(-1)}
        hidden={!overflow.left}
        aria-label="Scroll the tabs left"
        data-testid="tabs-scroll-left"
      >
        ‹
      </button>
      <nav
        className="sessions"
        aria-label="Images"
        data-testid="session-tabs"
        ref={strip}
        onScroll={measure}
        onWheel={onWheel}
      >
        {sessions.map((s) => (
          <div
            key={s.id}
            className={`session-tab${s.id === activeId ? ' active' : ''} state-${s.state}`}
            data-testid="session-tab"
            data-role={s.role}
          >
            <button
              type="button"
              className="tab-label"
              onClick={() => onSelect(s.id)}
              title={visibleText(s.path)}
            >
              {s.role === 'baseline' && <span className="role">baseline</span>}
              <span className="tab-name">
                <Text value={s.label} />
              </span>
              {s.counts?.highestSeverity && s.counts.findings > 0 && (
                <span
                  className={`dot sev-bg-${s.counts.highestSeverity}`}
                  title={`${s.counts.findings} findings`}
                />
              )}
            </button>
            {(s.state === 'analysing' || s.state === 'queued') && (
              <span className="tab-progress">
                <span style={{ width: `${(s.progress?.fraction ?? 0) * 100}%` }} />
              </span>
            )}
            <button
              type="button"
              className="ghost close"
              onClick={() => onClose(s)}
              aria-label={`Close ${visibleText(s.label)}`}
            >
              ×
            </button>
          </div>
        ))}
      </nav>
      <button
        type="button"
        className="ghost tab-scroll"
        onClick={() => scrollBy(1)}
        hidden={!overflow.right}
        aria-label="Scroll the tabs right"
        data-testid="tabs-scroll-right"
      >
        ›
      </button>
      <button
        type="button"
        className="ghost add"
        onClick={onOpen}
        title="Open image (Ctrl+O)"
        data-testid="open-image-tab"
      >
        + Open
      </button>
    </div>
  );
}
