// Open Image in web mode: a browser cannot give a page the path of a local file, so the server
// lists folders and the analyst picks the image there (the desktop app uses its native dialog).

import { useEffect, useState } from 'react';
import type { DirectoryListing, SessionRole } from '../../common/api';
import { api } from '../api/client';
import { Text } from '../components/Text';
import { formatSize, visibleText } from '../util/format';
import { Dialog } from './Dialog';

const IMAGE_HINT = /\.(raw|mem|bin|img|dmp|vmem|vmss|vmsn|elf|core|lime)$/i;

export function OpenImageDialog({
  role,
  onClose,
  onOpened,
  start,
}: {
  role: SessionRole;
  onClose: () => void;
  onOpened: (id: string) => void;
  start: string | null;
}) {
  const [listing, setListing] = useState<DirectoryListing | null>(null);
  const [path, setPath] = useState(start ?? '');
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [recent, setRecent] = useState<string[]>([]);

  const list = (folder: string | null): void => {
    api.browse(folder).then(
      (l) => {
        setError(null);
        setListing(l);
        setPath(l.path);
        setSelected(0);
      },
      (e: Error) => setError(e.message),
    );
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps -- list the start folder once
  useEffect(() => list(start), []);
  useEffect(() => {
    api.recent().then(setRecent, () => {});
  }, []);

  const open = (file: string): void => {
    api.open({ path: file, role }).then(
      (session) => {
        onOpened(session.id);
        onClose();
      },
      (e: Error) => setError(e.message),
    );
  };
  const entries = listing
    ? [
        ...(listing.parent
          ? [{ name: '..', path: listing.parent, kind: 'directory' as const, size: 0 }]
          : []),
        ...listing.entries,
      ]
    : [];
  const activate = (index: number): void => {
    const entry = entries[index];
    if (!entry) return;
    if (entry.kind === 'directory') list(entry.path);
    else open(entry.path);
  };

  return (
    <Dialog title={role === 'baseline' ? 'Open baseline image' : 'Open memory image'} onClose={onClose} wide>
      <form
        className="path-row"
        onSubmit={(e) => {
          e.preventDefault();
          list(path);
        }}
      >
        <input
          value={path}
          onChange={(e) => setPath(e.target.value)}
          className="mono"
          aria-label="Folder"
          data-testid="browse-path"
        />
        <button type="submit">List</button>
      </form>
      {recent.length > 0 && (
        <div className="recent" data-testid="recent-list">
          <span className="muted small">Recent</span>
          {recent.slice(0, 6).map((path) => (
            <button
              key={path}
              type="button"
              className="link"
              onClick={() => open(path)}
              title={visibleText(path)}
            >
              <Text value={path} />
            </button>
          ))}
        </div>
      )}
      {error && (
        <div className="bad small">
          <Text value={error} />
        </div>
      )}
      <div
        className="file-list"
        tabIndex={0}
        data-testid="file-list"
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setSelected((s) => Math.min(entries.length - 1, s + 1));
          else if (e.key === 'ArrowUp') setSelected((s) => Math.max(0, s - 1));
          else if (e.key === 'Enter') activate(selected);
          else if (e.key === 'Backspace' && listing?.parent) list(listing.parent);
          else return;
          e.preventDefault();
        }}
      >
        {entries.map((entry, i) => (
          <div
            key={entry.path + entry.name}
            className={`file-row${i === selected ? ' selected' : ''}${entry.kind === 'file' && IMAGE_HINT.test(entry.name) ? ' image' : ''}`}
            onClick={() => setSelected(i)}
            onDoubleClick={() => activate(i)}
            data-testid="file-row"
          >
            <span className="icon">{entry.kind === 'directory' ? '▸' : '·'}</span>
            <span className="name">
              <Text value={entry.name} />
            </span>
            <span className="size muted">{entry.kind === 'file' ? formatSize(entry.size) : ''}</span>
          </div>
        ))}
      </div>
      <div className="modal-actions">
        <span className="muted small">Double-click or Enter opens; images are opened read-only.</span>
        <button
          type="button"
          onClick={() => activate(selected)}
          className="primary"
          disabled={!entries[selected]}
        >
          {entries[selected]?.kind === 'file' ? 'Open' : 'Enter folder'}
        </button>
      </div>
    </Dialog>
  );
}
