// The workbench window: session tabs, the view bar, the current view, a status line; global
// keys (Alt+1…9, 0 views, Alt+←/→ history, Ctrl+G go to address, Ctrl+O open), menu commands of the
// desktop shell, drag-and-drop of images, and the dialogs.

import { Suspense, lazy, useCallback, useEffect, useState, type DragEvent } from 'react';
import type { MemorySpace, ReportFormat, SessionRole, SessionSummary } from '../common/api';
import { api, desktop } from './api/client';
import type { MenuCommand } from '../common/api';
import { SeverityBadge } from './components/Badges';
import { SessionStatus } from './components/SessionStatus';
import { SessionTabs } from './components/SessionTabs';
import { Text } from './components/Text';
import { GoToDialog } from './dialogs/GoToDialog';
import { OpenImageDialog } from './dialogs/OpenImageDialog';
import { RecentImages } from './components/RecentImages';
import { CaptureDialog } from './dialogs/CaptureDialog';
import { ExportDialog } from './dialogs/ExportDialog';
import { PracticeDialog } from './dialogs/PracticeDialog';
import { useActiveSession, useApp, useResult } from './state/app-state';
import { VIEWS, VIEW_LABELS, viewKey, type View } from './state/navigation';
import { addressSpacesOf } from './util/address-space';
import { visibleText } from './util/format';
import { DevicesView } from './views/DevicesView';
import { DiffView } from './views/diff/DiffView';
import { DriversView } from './views/DriversView';
import { FindingsView } from './views/FindingsView';
import { HexView } from './views/HexView';
import { ModulesView } from './views/ModulesView';
import { ActivityView } from './views/ActivityView';
import { CallbacksView } from './views/CallbacksView';
import { ServicesView } from './views/ServicesView';
import { FleetView } from './views/fleet/FleetView';
import { Overview } from './views/Overview';

// React Flow and ELK are large and only the flow view needs them.
const FlowView = lazy(() => import('./views/FlowView'));

type DialogState =
  | { kind: 'open'; role: SessionRole }
  | { kind: 'practice' }
  | { kind: 'capture'; follow?: string }
  | { kind: 'export'; format: ReportFormat }
  | { kind: 'goto' }
  | null;

function dirname(path: string): string {
  const index = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return index > 0 ? path.slice(0, index) : path;
}

export function App() {
  const app = useApp();
  const { sessions, location, navigate, back, forward, canBack, canForward, notify, appInfo } = app;
  const session = useActiveSession();
  const result = useResult(session);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [dragging, setDragging] = useState(false);
  const [fleetOpen, setFleetOpen] = useState(false);
  // Going anywhere (a session tab, a view) leaves the Fleet view.
  const [fleetFrom, setFleetFrom] = useState(location);
  if (fleetOpen && fleetFrom !== location) {
    setFleetFrom(location);
    setFleetOpen(false);
  }
  const openFleet = useCallback(() => {
    setFleetFrom(location);
    setFleetOpen(true);
  }, [location]);

  useEffect(() => {
    document.title = session ? `${visibleText(session.label)} — IRPscope` : 'IRPscope';
  }, [session]);

  const openImage = useCallback(
    async (role: SessionRole) => {
      if (desktop) {
        const path = await desktop.pickImage({
          title: role === 'baseline' ? 'Open a clean baseline image' : 'Open memory image',
        });
        if (!path) return;
        try {
          const opened = await api.open({ path, role });
          if (role === 'primary') navigate({ session: opened.id, view: 'overview' });
          else navigate({ view: 'diff', diff: { tab: 'differences', baseline: opened.id } });
        } catch (error) {
          notify('error', (error as Error).message);
        }
      } else {
        setDialog({ kind: 'open', role });
      }
    },
    [navigate, notify],
  );

  const exportReport = useCallback(
    (format: ReportFormat) => {
      if (!session || session.state !== 'ready') {
        notify('error', 'Export needs a finished analysis.');
        return;
      }
      setDialog({ kind: 'export', format });
    },
    [session, notify],
  );

  const goView = useCallback((view: View) => navigate({ view }), [navigate]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const typing =
        event.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
      if (event.altKey && !event.ctrlKey && /^[0-9]$/.test(event.key)) {
        event.preventDefault();
        const view = VIEWS[(Number(event.key) + 9) % 10];
        if (view) goView(view);
      } else if (event.altKey && event.key === 'ArrowLeft') {
        event.preventDefault();
        back();
      } else if (event.altKey && event.key === 'ArrowRight') {
        event.preventDefault();
        forward();
      } else if (!desktop && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'e') {
        event.preventDefault();
        exportReport('pdf');
      } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'g') {
        event.preventDefault();
        setDialog({ kind: 'goto' });
      } else if (!desktop && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'o') {
        event.preventDefault();
        void openImage(event.shiftKey ? 'baseline' : 'primary');
      } else if (event.key === 'Backspace' && !typing && !event.ctrlKey) {
        back();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [goView, back, forward, openImage, exportReport]);

  useEffect(() => {
    if (!desktop) return;
    return desktop.onMenuCommand((command: MenuCommand) => {
      switch (command.type) {
        case 'open-image':
          void openImage('primary');
          break;
        case 'open-baseline':
          void openImage('baseline');
          break;
        case 'practice-image':
          setDialog({ kind: 'practice' });
          break;
        case 'capture':
          setDialog({ kind: 'capture' });
          break;
        case 'open-fleet':
          openFleet();
          break;
        case 'export':
          void exportReport(command.format);
          break;
        case 'navigate':
          if ((VIEWS as readonly string[]).includes(command.view)) goView(command.view as View);
          break;
        case 'go-to-address':
          setDialog({ kind: 'goto' });
          break;
        case 'back':
          back();
          break;
        case 'forward':
          forward();
          break;
        case 'session-opened':
          navigate({ session: command.id, view: 'overview' });
          break;
      }
    });
  }, [openImage, exportReport, goView, back, forward, navigate, openFleet]);

  const onDrop = async (event: DragEvent<HTMLDivElement>): Promise<void> => {
    event.preventDefault();
    setDragging(false);
    const files = [...event.dataTransfer.files];
    if (files.length === 0) return;
    if (!desktop) {
      notify(
        'error',
        'A browser cannot hand over a dropped file’s path: use Open Image (Ctrl+O) in web mode.',
      );
      return;
    }
    // Dropped on the comparison, an image is its baseline; elsewhere it is opened to be examined.
    const role: SessionRole = location.view === 'diff' && session ? 'baseline' : 'primary';
    for (const file of files) {
      const path = desktop.pathForFile(file);
      if (!path) continue;
      try {
        const opened = await api.open({ path, role });
        if (role === 'primary') navigate({ session: opened.id, view: 'overview' });
        else navigate({ diff: { ...(location.diff ?? { tab: 'differences' }), baseline: opened.id } });
      } catch (error) {
        notify('error', (error as Error).message);
      }
    }
  };

  const closeSession = (s: SessionSummary): void => {
    api.close(s.id).catch((e: Error) => notify('error', e.message));
  };

  let content;
  if (fleetOpen) {
    content = (
      <FleetView
        onClose={() => setFleetOpen(false)}
        onOpened={(primary, baseline) => {
          setFleetOpen(false);
          navigate(
            baseline
              ? { session: primary, view: 'diff', diff: { tab: 'differences', baseline } }
              : { session: primary, view: 'overview' },
          );
        }}
      />
    );
  } else if (!session) {
    content = (
      <div className="welcome" data-testid="welcome">
        <h1>IRPscope</h1>
        <p>Open a Windows memory image to see where its I/O requests really go.</p>
        <div className="actions">
          <button type="button" className="primary" onClick={() => void openImage('primary')}>
            Open image…
          </button>
          <button
            type="button"
            onClick={() => api.openDemo().catch((e: Error) => notify('error', e.message))}
          >
            Open the demo case
          </button>
          <button type="button" onClick={() => setDialog({ kind: 'capture' })}>
            Capture from a VM…
          </button>
          <button type="button" onClick={() => setDialog({ kind: 'practice' })}>
            New practice image…
          </button>
        </div>
        <RecentImages />
      </div>
    );
  } else if (session.state !== 'ready') {
    content = <SessionStatus session={session} />;
  } else if (!result || result.status === 'loading') {
    content = <div className="placeholder">Loading the result…</div>;
  } else if (result.status === 'error') {
    content = (
      <div className="placeholder bad">
        <Text value={result.message} />
      </div>
    );
  } else {
    const index = result.index;
    switch (location.view) {
      case 'overview':
        content = <Overview session={session} index={index} onExport={() => exportReport('pdf')} />;
        break;
      case 'drivers':
        content = <DriversView index={index} />;
        break;
      case 'devices':
        content = <DevicesView index={index} />;
        break;
      case 'modules':
        content = <ModulesView index={index} />;
        break;
      case 'services':
        content = <ServicesView index={index} />;
        break;
      case 'activity':
        content = <ActivityView index={index} />;
        break;
      case 'callbacks':
        content = <CallbacksView index={index} />;
        break;
      case 'findings':
        content = <FindingsView index={index} />;
        break;
      case 'hex':
        content = <HexView session={session.id} index={index} />;
        break;
      case 'flow':
        content = (
          <Suspense fallback={<div className="placeholder">Loading the flow diagram…</div>}>
            <FlowView session={session.id} index={index} />
          </Suspense>
        );
        break;
      case 'diff':
        content = <DiffView session={session} onOpenBaseline={() => void openImage('baseline')} />;
        break;
    }
  }

  return (
    <div
      className={`app${dragging ? ` dragging${location.view === 'diff' && session ? ' as-baseline' : ''}` : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => void onDrop(e)}
    >
      <header className="topbar">
        <span className="logo" title={appInfo ? `IRPscope ${appInfo.version} (${appInfo.mode})` : 'IRPscope'}>
          IRP<b>scope</b>
        </span>
        <div className="history">
          <button
            type="button"
            className="ghost"
            onClick={back}
            disabled={!canBack}
            title="Back (Alt+←)"
            aria-label="Back"
          >
            ‹
          </button>
          <button
            type="button"
            className="ghost"
            onClick={forward}
            disabled={!canForward}
            title="Forward (Alt+→)"
            aria-label="Forward"
          >
            ›
          </button>
        </div>
        <SessionTabs
          sessions={sessions}
          activeId={session?.id ?? null}
          onSelect={(id) => navigate({ session: id })}
          onClose={closeSession}
          onOpen={() => void openImage('primary')}
        />
        <div className="top-actions">
          <button
            type="button"
            className="ghost"
            onClick={() => setDialog({ kind: 'goto' })}
            title="Go to address (Ctrl+G)"
          >
            Go to…
          </button>
          {app.captures
            .filter((c) => c.state === 'running')
            .map((c) => (
              <button
                key={c.id}
                type="button"
                className="ghost capture-pill"
                data-testid="capture-pill"
                onClick={() => setDialog({ kind: 'capture', follow: c.id })}
                title={`Capturing ${visibleText(c.label)}: show progress`}
              >
                <span className="rec" aria-hidden="true" />
                <Text value={c.label} />{' '}
                {c.progress && c.progress.total > 0
                  ? `${Math.round((100 * c.progress.completed) / c.progress.total)}%`
                  : '…'}
              </button>
            ))}
          <button
            type="button"
            className="ghost"
            onClick={() => setDialog({ kind: 'capture' })}
            title="Capture the memory of a running VM"
          >
            Capture…
          </button>
          <button type="button" className="ghost" onClick={() => setDialog({ kind: 'practice' })}>
            Practice…
          </button>
          <button
            type="button"
            className="ghost"
            onClick={openFleet}
            title="A fleet of hosts against golden baselines (Redis or a results folder)"
            data-testid="open-fleet"
          >
            Fleet…
          </button>
          <button
            type="button"
            className="ghost"
            onClick={() => exportReport('pdf')}
            disabled={session?.state !== 'ready'}
            title="Export a report of this image (Ctrl+E)"
          >
            Export…
          </button>
        </div>
      </header>
      <nav className="viewbar" aria-label="Views">
        {VIEWS.map((view, i) => (
          <button
            key={view}
            type="button"
            className={location.view === view ? 'active' : ''}
            onClick={() => goView(view)}
            title={viewKey(i) ? `${VIEW_LABELS[view]} (Alt+${viewKey(i)})` : VIEW_LABELS[view]}
            data-testid={`nav-${view}`}
          >
            {VIEW_LABELS[view]}
            {view === 'findings' && session?.counts ? (
              <span className="count">{session.counts.findings}</span>
            ) : null}
          </button>
        ))}
      </nav>
      <main className="content">{content}</main>
      <footer className="statusbar">
        {session ? (
          <>
            <span>
              <Text value={session.path} />
            </span>
            <span>
              {session.info ? `${session.info.arch ?? '?'} · ${session.info.build?.value.name ?? ''}` : ''}
            </span>
            <span>
              {session.counts
                ? `${session.counts.drivers} drivers · ${session.counts.devices} devices · ${session.counts.findings} findings`
                : session.state}
            </span>
            {session.counts?.highestSeverity && <SeverityBadge severity={session.counts.highestSeverity} />}
          </>
        ) : (
          <span>No image open</span>
        )}
        <span className="spacer" />
        <span className="muted">
          {appInfo ? `${appInfo.mode === 'web' ? 'web mode' : 'desktop'} · v${appInfo.version}` : ''}
        </span>
      </footer>
      {app.notices.length > 0 && (
        <div className="notices">
          {app.notices.map((n) => (
            <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
              <Text value={n.text} />
              <button type="button" className="ghost" onClick={() => app.dismiss(n.id)} aria-label="Dismiss">
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      {dialog?.kind === 'open' && (
        <OpenImageDialog
          role={dialog.role}
          start={session ? dirname(session.path) : (appInfo?.dataDirectory ?? null)}
          onClose={() => setDialog(null)}
          onOpened={(id) =>
            dialog.role === 'primary'
              ? navigate({ session: id, view: 'overview' })
              : navigate({ view: 'diff', diff: { tab: 'differences', baseline: id } })
          }
        />
      )}
      {dialog?.kind === 'practice' && (
        <PracticeDialog
          onClose={() => setDialog(null)}
          onOpened={(id) => navigate({ session: id, view: 'overview' })}
          symbolsDirectory={appInfo?.symbolsDirectory ?? null}
        />
      )}
      {dialog?.kind === 'capture' && (
        <CaptureDialog
          {...(dialog.follow ? { initialCapture: dialog.follow } : {})}
          onClose={() => setDialog(null)}
          onOpened={(id, role) =>
            role === 'primary'
              ? navigate({ session: id, view: 'overview' })
              : navigate({ view: 'diff', diff: { tab: 'differences', baseline: id } })
          }
        />
      )}
      {dialog?.kind === 'export' && session && (
        <ExportDialog session={session} initialFormat={dialog.format} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === 'goto' && (
        <GoToDialog
          space={(location.hex?.space ?? 'virtual') as MemorySpace}
          spaces={result?.status === 'ready' ? addressSpacesOf(result.index) : null}
          onClose={() => setDialog(null)}
          onGo={(space, address) => navigate({ view: 'hex', hex: { space, address } })}
        />
      )}
    </div>
  );
}
