// File › New Practice Image: the builder's scenarios for analysts who want to learn on a known
// infection. x86 profiles need nothing; x64 kernels need a symbol folder with a kernel ISF.

import { useState } from 'react';
import type { PracticeImageRequest } from '../../common/api';
import { api, desktop } from '../api/client';
import { Text } from '../components/Text';
import { Dialog } from './Dialog';

/** The builder's x86 profiles (src/builder/layout/x86-profiles.ts X86_PROFILES). */
const X86_PROFILES = ['win7-sp1-x86', 'win7-sp1-x86-pae', 'xp-sp3-x86', '2003-sp2-x86'];
const FORMATS: PracticeImageRequest['format'][] = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'];
const SIZES = [64, 128, 256, 512, 1024];

export function PracticeDialog({
  onClose,
  onOpened,
  symbolsDirectory,
}: {
  onClose: () => void;
  onOpened: (id: string) => void;
  symbolsDirectory: string | null;
}) {
  const [kernel, setKernel] = useState<'x86' | 'x64'>('x86');
  const [profile, setProfile] = useState(X86_PROFILES[0]!);
  const [symbols, setSymbols] = useState(symbolsDirectory ?? '');
  const [isfFiles, setIsfFiles] = useState<string[]>([]);
  const [isf, setIsf] = useState('');
  const [scenario, setScenario] = useState<'clean' | 'infected'>('infected');
  const [format, setFormat] = useState<PracticeImageRequest['format']>('raw');
  const [size, setSize] = useState(64);
  const [seed, setSeed] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const shell = desktop;

  const findIsf = async (folder: string): Promise<void> => {
    setError(null);
    const found: string[] = [];
    try {
      const windows = await api.browse(`${folder.replace(/\/+$/, '')}/windows`);
      const kernels = windows.entries.filter(
        (e) => e.kind === 'directory' && /^nt(krnlmp|oskrnl|krnlpa|krpamp)\.pdb$/i.test(e.name),
      );
      for (const pdb of kernels) {
        const listing = await api.browse(pdb.path);
        found.push(
          ...listing.entries
            .filter((e) => e.kind === 'file' && /\.json(\.xz)?$/.test(e.name))
            .map((e) => e.path),
        );
      }
    } catch {
      // No windows/ folder: reported below.
    }
    setIsfFiles(found);
    setIsf(found[0] ?? '');
    if (found.length === 0)
      setError('No kernel ISF under windows/ntkrnlmp.pdb or windows/ntoskrnl.pdb in that folder.');
  };

  const submit = (): void => {
    setBusy(true);
    setError(null);
    const request: PracticeImageRequest = {
      scenario,
      format,
      size: size * 1024 * 1024,
      ...(seed.trim() !== '' ? { seed: Number(seed) } : {}),
      ...(kernel === 'x86' ? { profile } : { isf, symbolsDir: symbols }),
    };
    api.practiceImage(request).then(
      (session) => {
        onOpened(session.id);
        onClose();
      },
      (e: Error) => {
        setBusy(false);
        setError(e.message);
      },
    );
  };

  return (
    <Dialog title="New practice image" onClose={onClose}>
      <div className="form-grid">
        <label>Kernel</label>
        <div className="segmented">
          <button type="button" className={kernel === 'x86' ? 'active' : ''} onClick={() => setKernel('x86')}>
            x86 (built in)
          </button>
          <button type="button" className={kernel === 'x64' ? 'active' : ''} onClick={() => setKernel('x64')}>
            x64 (needs symbols)
          </button>
        </div>
        {kernel === 'x86' ? (
          <>
            <label htmlFor="practice-profile">Profile</label>
            <select id="practice-profile" value={profile} onChange={(e) => setProfile(e.target.value)}>
              {X86_PROFILES.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </>
        ) : (
          <>
            <label htmlFor="practice-symbols">Symbol folder</label>
            <div className="path-row">
              <input
                id="practice-symbols"
                className="mono"
                value={symbols}
                onChange={(e) => setSymbols(e.target.value)}
                placeholder="…/isf (Volatility 3 symbols)"
              />
              {shell && (
                <button
                  type="button"
                  onClick={() =>
                    shell
                      .pickDirectory({ title: 'Symbol folder' })
                      .then((p) => p && (setSymbols(p), void findIsf(p)))
                  }
                >
                  Browse…
                </button>
              )}
              <button type="button" onClick={() => void findIsf(symbols)}>
                Find kernels
              </button>
            </div>
            <label htmlFor="practice-isf">Kernel ISF</label>
            <select id="practice-isf" value={isf} onChange={(e) => setIsf(e.target.value)}>
              {isfFiles.map((f) => (
                <option key={f} value={f}>
                  {f.split('/').pop()}
                </option>
              ))}
            </select>
          </>
        )}
        <label>Scenario</label>
        <div className="segmented">
          {(['infected', 'clean'] as const).map((s) => (
            <button
              key={s}
              type="button"
              className={scenario === s ? 'active' : ''}
              onClick={() => setScenario(s)}
            >
              {s}
            </button>
          ))}
        </div>
        <label htmlFor="practice-format">Format</label>
        <select
          id="practice-format"
          value={format}
          onChange={(e) => setFormat(e.target.value as PracticeImageRequest['format'])}
        >
          {FORMATS.map((f) => (
            <option key={f}>{f}</option>
          ))}
        </select>
        <label htmlFor="practice-size">Memory</label>
        <select id="practice-size" value={size} onChange={(e) => setSize(Number(e.target.value))}>
          {SIZES.map((s) => (
            <option key={s} value={s}>
              {s >= 1024 ? `${s / 1024} GiB` : `${s} MiB`}
            </option>
          ))}
        </select>
        <label htmlFor="practice-seed">Seed</label>
        <input
          id="practice-seed"
          value={seed}
          onChange={(e) => setSeed(e.target.value.replace(/\D/g, ''))}
          placeholder="random"
        />
      </div>
      {error && (
        <div className="bad small">
          <Text value={error} />
        </div>
      )}
      <div className="modal-actions">
        <span className="muted small">Built into the data folder; the same seed gives the same image.</span>
        <button
          type="button"
          className="primary"
          onClick={submit}
          disabled={busy || (kernel === 'x64' && !isf)}
        >
          {busy ? 'Building…' : 'Build and open'}
        </button>
      </div>
    </Dialog>
  );
}
