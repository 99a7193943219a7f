// File › Capture from VM…: the QMP sockets found in a folder the analyst chooses (and libvirt's),
// or one typed in, and the VMs that virsh, VBoxManage and vmrun know (a missing tool is named).
// One VM is captured into the data folder and opened — as the image to examine, or as the
// baseline, so that a before/after pair is two clicks. Progress, the time the VM was paused and
// Cancel are shown while it runs.

import { useCallback, useEffect, useState } from 'react';
import type {
  CaptureSource,
  CaptureSummary,
  CaptureTargets,
  CaptureToolKind,
  SessionRole,
} from '../../common/api';
import { api, desktop } from '../api/client';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import { formatMs, formatSize, visibleText } from '../util/format';
import { Dialog } from './Dialog';

const FOLDER_KEY = 'irpscope.capture.folder';
const TOOL_LABELS: Record<CaptureToolKind, string> = {
  libvirt: 'libvirt',
  virtualbox: 'VirtualBox',
  vmware: 'VMware',
};
const STAGE_LABELS: Record<string, string> = {
  connecting: 'Connecting',
  pausing: 'Pausing the VM',
  dumping: 'Writing the memory',
  cancelling: 'Cancelling: waiting for QEMU to finish writing before the VM resumes',
  resuming: 'Resuming the VM',
  finishing: 'Putting the file in place',
};

interface Choice {
  key: string;
  source: CaptureSource;
  /** The VM's name, and the suggested file name stem made from it. */
  label: string;
  stem: string;
}

/** The end of a long path, for a narrow column (the whole path is the tooltip). */
function pathTail(path: string): string {
  const parts = path.split('/');
  return parts.length > 3 ? `…/${parts.slice(-3).join('/')}` : path;
}

function stamp(): string {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
}

function stemOf(text: string): string {
  return (
    text
      .replace(/\.[^./]+$/, '')
      .split('/')
      .pop()!
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 60) || 'vm'
  );
}

export function CaptureDialog({
  onClose,
  onOpened,
  initialCapture,
}: {
  onClose: () => void;
  onOpened: (session: string, role: SessionRole) => void;
  /** A capture already running, to follow (from the top bar). */
  initialCapture?: string;
}) {
  const { captures, sessions } = useApp();
  const [folder, setFolder] = useState(() => localStorage.getItem(FOLDER_KEY) ?? '');
  const [targets, setTargets] = useState<CaptureTargets | null>(null);
  const [searching, setSearching] = useState(true);
  const [manual, setManual] = useState('');
  const [choice, setChoice] = useState<Choice | null>(null);
  const [name, setName] = useState('');
  const [nameEdited, setNameEdited] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [captureId, setCaptureId] = useState<string | null>(initialCapture ?? null);
  const current: CaptureSummary | undefined = captures.find((c) => c.id === captureId);

  const load = useCallback((where: string) => {
    api.captureTargets(where.trim() ? { folder: where.trim() } : {}).then(
      (found) => {
        setTargets(found);
        setError(null);
        setSearching(false);
      },
      (e: Error) => {
        setError(e.message);
        setSearching(false);
      },
    );
  }, []);
  const search = (where: string): void => {
    setSearching(true);
    load(where);
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps -- search once on opening
  useEffect(() => load(folder), []);

  const choose = (next: Choice): void => {
    setChoice(next);
    if (!nameEdited) setName(`${next.stem}-${stamp()}.elf`);
  };

  // A finished capture shows its session (once the session's own event has arrived) and closes the dialog.
  const openedSession =
    current?.state === 'done' ? sessions.find((s) => s.id === current.session) : undefined;
  useEffect(() => {
    if (openedSession && current) {
      onOpened(openedSession.id, current.role);
      onClose();
    }
  }, [openedSession, current, onOpened, onClose]);

  const start = (role: SessionRole): void => {
    const source: CaptureSource | null = manual.trim()
      ? { kind: 'qmp', endpoint: manual.trim() }
      : (choice?.source ?? null);
    if (!source) return;
    if (folder.trim()) localStorage.setItem(FOLDER_KEY, folder.trim());
    setError(null);
    const fileName = source.kind === 'vmware' ? undefined : name.trim() || undefined;
    const label = manual.trim() ? manual.trim() : choice?.label;
    api.capture({ source, role, ...(fileName ? { name: fileName } : {}), ...(label ? { label } : {}) }).then(
      (summary) => setCaptureId(summary.id),
      (e: Error) => setError(e.message),
    );
  };

  const running = current?.state === 'running';
  const progress = current?.progress;
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.completed / progress.total) : 0;
  const selectedKey = manual.trim() ? null : choice?.key;

  return (
    <Dialog title="Capture from a running VM" onClose={onClose} wide>
      <div className="capture-sources" data-testid="capture-sources">
        <div className="capture-section-title">QEMU / KVM (QMP sockets)</div>
        <div className="path-row">
          <input
            className="mono"
            aria-label="Folder with QMP sockets"
            value={folder}
            onChange={(e) => setFolder(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && search(folder)}
            placeholder="folder holding the VMs' QMP sockets (libvirt's folders are always searched)"
          />
          {desktop && (
            <button
              type="button"
              onClick={() =>
                void desktop!.pickDirectory({ title: 'Folder with QMP sockets' }).then((p) => {
                  if (p) {
                    setFolder(p);
                    search(p);
                  }
                })
              }
            >
              Browse…
            </button>
          )}
          <button type="button" onClick={() => search(folder)} disabled={searching}>
            {searching ? 'Searching…' : 'Search'}
          </button>
        </div>
        <div className="capture-list" role="radiogroup" aria-label="VMs">
          {targets?.sockets.length === 0 && (
            <div className="muted small">No QMP socket in {targets.folders.join(', ')}.</div>
          )}
          {targets?.sockets.map((socket) => {
            const key = `qmp:${socket.path}`;
            const ready = socket.state === 'ready' && socket.vm;
            return (
              <label
                key={key}
                className={`capture-row${ready ? '' : ' unavailable'}${selectedKey === key ? ' selected' : ''}`}
                data-testid="capture-row"
              >
                <input
                  type="radio"
                  name="capture-target"
                  disabled={!ready}
                  checked={selectedKey === key}
                  onChange={() =>
                    choose({
                      key,
                      source: { kind: 'qmp', endpoint: socket.path },
                      label: socket.vm?.name ?? socket.path,
                      stem: stemOf(socket.vm?.name ?? socket.path),
                    })
                  }
                />
                <span className="vm-name">
                  <Text value={socket.vm?.name ?? '(unnamed VM)'} />
                </span>
                <span className="vm-facts">
                  {ready ? (
                    <>
                      {socket.vm!.memoryBytes ? formatSize(socket.vm!.memoryBytes) : 'size unknown'} ·{' '}
                      <span className={socket.vm!.running ? 'good' : 'muted'}>{socket.vm!.status}</span> ·
                      QEMU {socket.vm!.qemuVersion}
                    </>
                  ) : (
                    <span className="muted">
                      {socket.state}: <Text value={socket.reason ?? ''} />
                    </span>
                  )}
                </span>
                <span className="vm-path mono muted" title={visibleText(socket.path)}>
                  <Text value={pathTail(socket.path)} />
                </span>
              </label>
            );
          })}
        </div>
        <div className="path-row">
          <input
            className="mono"
            aria-label="QMP socket or host:port"
            value={manual}
            onChange={(e) => {
              setManual(e.target.value);
              if (!nameEdited && e.target.value.trim())
                setName(`${stemOf(e.target.value.trim())}-${stamp()}.elf`);
            }}
            placeholder="or type a socket: /path/to/qmp.sock or 127.0.0.1:4444"
          />
        </div>
        {targets?.tools.map((tool) => (
          <div key={tool.tool} className="capture-tool" data-testid={`capture-tool-${tool.tool}`}>
            <div className="capture-section-title">
              {TOOL_LABELS[tool.tool]}
              <span className="muted small"> {tool.path ? tool.path : ''}</span>
            </div>
            {!tool.path && <div className="muted small">{tool.missing}</div>}
            {tool.problem && (
              <div className="bad small">
                <Text value={tool.problem} />
              </div>
            )}
            {tool.path && !tool.problem && tool.vms.length === 0 && (
              <div className="muted small">No VMs.</div>
            )}
            {tool.vms.map((vm) => {
              const key = `${tool.tool}:${vm.id}`;
              return (
                <label
                  key={key}
                  className={`capture-row${selectedKey === key ? ' selected' : ''}`}
                  data-testid="capture-row"
                >
                  <input
                    type="radio"
                    name="capture-target"
                    checked={selectedKey === key}
                    onChange={() =>
                      choose({
                        key,
                        source: { kind: tool.tool, vm: vm.id },
                        label: vm.name,
                        stem: stemOf(vm.name),
                      })
                    }
                  />
                  <span className="vm-name">
                    <Text value={vm.name} />
                  </span>
                  <span className="vm-facts muted">{vm.state}</span>
                  <span className="vm-path mono muted" title={visibleText(vm.id)}>
                    <Text value={vm.id === vm.name ? '' : pathTail(vm.id)} />
                  </span>
                </label>
              );
            })}
          </div>
        ))}
      </div>
      <div className="form-grid">
        <label htmlFor="capture-name">Save as</label>
        <div className="path-row">
          <input
            id="capture-name"
            className="mono"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNameEdited(true);
            }}
            disabled={choice?.source.kind === 'vmware' && !manual.trim()}
            placeholder="file name"
          />
        </div>
        <span />
        <span className="muted small">
          {choice?.source.kind === 'vmware' && !manual.trim()
            ? 'VMware keeps the snapshot (.vmsn and .vmem) in the VM’s folder; it is opened from there.'
            : `in ${targets?.outputFolder ?? 'the data folder'}`}
        </span>
      </div>
      {current && (
        <div
          className={`capture-progress state-${current.state}`}
          data-testid="capture-progress"
          aria-live="polite"
        >
          <div className="stage">
            <span>
              {current.state === 'running'
                ? (STAGE_LABELS[progress?.stage ?? 'connecting'] ?? progress?.stage)
                : current.state === 'failed'
                  ? 'Capture failed'
                  : current.state === 'cancelled'
                    ? 'Cancelled: no file was kept'
                    : 'Captured'}
            </span>
            <span className="pct mono">
              {progress && progress.total > 100
                ? `${formatSize(progress.completed)} of ${formatSize(progress.total)}`
                : progress && progress.total === 100
                  ? `${Math.round(progress.completed)}%`
                  : ''}
            </span>
          </div>
          <div className="progress-large">
            <div className="fill" style={{ width: `${fraction * 100}%` }} />
          </div>
          {current.result && (
            <div className="small" data-testid="capture-result">
              {current.result.pausedMs !== null
                ? `The VM was paused for ${formatMs(current.result.pausedMs)}.`
                : current.result.wasRunning
                  ? ''
                  : `The VM was ${current.result.vm.stateBefore} and stays so.`}{' '}
              {formatSize(current.result.bytes)} written in {formatMs(current.result.dumpMs)}.
            </div>
          )}
          {current.error && (
            <div className="bad small" role="alert">
              <Text value={current.error} />
            </div>
          )}
        </div>
      )}
      {error && (
        <div className="bad small" role="alert">
          <Text value={error} />
        </div>
      )}
      <div className="modal-actions">
        {running ? (
          <>
            <span className="muted small">The VM stays paused only while its memory is written.</span>
            <button type="button" onClick={() => void api.cancelCapture(current!.id)}>
              Cancel capture
            </button>
          </>
        ) : (
          <>
            <button type="button" onClick={() => start('baseline')} disabled={!choice && !manual.trim()}>
              Capture as baseline
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => start('primary')}
              disabled={!choice && !manual.trim()}
            >
              Capture and open
            </button>
          </>
        )}
      </div>
    </Dialog>
  );
}
