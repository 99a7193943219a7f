// The first screen of an image: what it is and how each fact was found, what it contains, what
// is wrong with it (findings by severity, most severe first) and where the time went.

import type { ReactNode } from 'react';
import type { SessionSummary } from '../../common/api';
import { SEVERITIES, severityRank } from '../../common/findings';
import type { Discovered } from '../../common/model';
import { SeverityBadge } from '../components/Badges';
import { AddressLink, FindingLink } from '../components/Links';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import { formatMs, formatSize } from '../util/format';
import type { ResultIndex } from '../util/result-index';
import { CaseCard } from './CaseCard';

function Fact({ label, children, how }: { label: string; children: ReactNode; how?: string | null }) {
  return (
    <tr>
      <th>{label}</th>
      <td>{children}</td>
      <td className="how">{how ? <Text value={how} /> : null}</td>
    </tr>
  );
}

function found<T>(value: Discovered<T> | null, show: (v: T) => ReactNode): { node: ReactNode; how: string } {
  return value
    ? { node: show(value.value), how: value.method }
    : { node: <span className="absent">not found</span>, how: '' };
}

export function Overview({
  session,
  index,
  onExport,
}: {
  session: SessionSummary;
  index: ResultIndex;
  onExport: () => void;
}) {
  const { navigate } = useApp();
  const { result, wide } = index;
  const info = result.image;
  const counts = SEVERITIES.map((s) => ({
    severity: s,
    n: result.findings.filter((f) => f.severity === s).length,
  })).reverse();
  const maxCount = Math.max(1, ...counts.map((c) => c.n));
  const timingGroups = [
    { title: 'Finding the kernel', timings: info.timings },
    { title: 'Analysis', timings: result.stats.timings },
  ].filter((g) => g.timings.length > 0);
  const totalMs = timingGroups.reduce((n, g) => n + g.timings.reduce((m, t) => m + t.ms, 0), 0);
  const longestMs = Math.max(0, ...timingGroups.flatMap((g) => g.timings.map((t) => t.ms)));
  const top = [...result.findings]
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity))
    .slice(0, 8);
  const dtb = found(info.dtb, (v) => <AddressLink address={v} wide={wide} space="physical" />);
  const kernel = found(info.kernelBase, (v) => <AddressLink address={v} wide={wide} />);
  const build = found(info.build, (v) => `${v.name} (build ${v.number})`);
  const kdbg = found(info.kdbg, (v) => (
    <>
      <AddressLink address={v.va} wide={wide} />
      {v.encoded ? ' (encoded)' : ''}
    </>
  ));
  const modules = found(info.psLoadedModuleList, (v) => <AddressLink address={v} wide={wide} />);
  const root = found(info.objectRootDirectory, (v) => <AddressLink address={v} wide={wide} />);
  const unlinked = result.modules.filter((m) => m.unlinked).length;
  const hiddenProcesses = result.processes.filter((p) => p.hidden).length;
  const hooked = [...index.hooked.values()].reduce((n, list) => n + list.length, 0);

  return (
    <div className="overview" data-testid="view-overview">
      <CaseCard session={session} onExport={onExport} />
      <section className="card image-facts">
        <h2>
          Image{' '}
          <span className="sub">
            <Text value={session.label} />
          </span>
        </h2>
        <table className="facts">
          <tbody>
            <Fact label="File">
              <Text value={info.path} /> <span className="muted">({formatSize(info.fileSize)})</span>
            </Fact>
            <Fact label="Format" how={info.format.id}>
              <Text value={info.format.description} />
            </Fact>
            <Fact label="Physical memory">
              {formatSize(info.physical.bytes)} in {info.physical.runs} run
              {info.physical.runs === 1 ? '' : 's'}, up to{' '}
              <AddressLink address={info.physical.maxAddress} wide={wide} space="physical" />
            </Fact>
            <Fact label="Architecture">
              {info.arch ?? '?'} · {info.paging === 'pae' ? 'PAE paging' : `${info.paging ?? '?'} paging`}
            </Fact>
            <Fact label="Build" how={build.how}>
              {build.node}
            </Fact>
            <Fact label="DTB (CR3)" how={dtb.how}>
              {dtb.node}
            </Fact>
            <Fact label="Kernel base" how={kernel.how}>
              {kernel.node}{' '}
              {info.kernelSize ? <span className="muted">size {formatSize(info.kernelSize)}</span> : null}
            </Fact>
            <Fact label="KDBG" how={kdbg.how}>
              {kdbg.node}
            </Fact>
            <Fact label="PsLoadedModuleList" how={modules.how}>
              {modules.node}
            </Fact>
            <Fact label="Object root" how={root.how}>
              {root.node}
            </Fact>
            <Fact label="Kernel PDB">
              {info.pdb ? (
                <>
                  <Text value={info.pdb.name} />{' '}
                  <span className="muted mono">
                    {info.pdb.guid}-{info.pdb.age}
                  </span>
                </>
              ) : (
                <span className="absent">not found</span>
              )}
            </Fact>
            <Fact label="Structure layouts" how={info.profile?.path ?? null}>
              {info.profile ? (
                <>
                  {info.profile.source === 'isf' ? 'ISF symbols' : 'built-in tables'}:{' '}
                  <Text value={info.profile.name} />
                </>
              ) : (
                <span className="absent">none</span>
              )}
            </Fact>
          </tbody>
        </table>
        {!info.dtb && (
          <div className="alert" data-testid="kernel-not-found">
            No Windows kernel was found in this file, so there is nothing to analyse. Is it a memory image?
            The warnings below say what was tried.
          </div>
        )}
        {info.warnings.length > 0 && (
          <ul className="warnings">
            {info.warnings.map((w, i) => (
              <li key={i}>
                <Text value={w} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card counts">
        <h2>Contents</h2>
        <div className="tiles">
          <button type="button" className="tile" onClick={() => navigate({ view: 'drivers' })}>
            <b>{result.drivers.length}</b> drivers
            <small>{result.drivers.filter((d) => d.state === 'freed').length} freed</small>
          </button>
          <button type="button" className="tile" onClick={() => navigate({ view: 'devices' })}>
            <b>{result.devices.length}</b> devices
            <small>{result.links.length} symbolic links</small>
          </button>
          <button type="button" className="tile" onClick={() => navigate({ view: 'modules' })}>
            <b>{result.modules.length}</b> modules
            <small className={unlinked ? 'bad' : ''}>{unlinked} unlinked</small>
          </button>
          <button type="button" className="tile" onClick={() => navigate({ view: 'drivers' })}>
            <b className={hooked ? 'bad' : ''}>{hooked}</b> suspicious handlers
            <small>in {index.hooked.size} drivers</small>
          </button>
          <button
            type="button"
            className="tile"
            onClick={() => navigate({ view: 'activity', activity: { tab: 'processes' } })}
          >
            <b>{result.processes.length}</b> processes
            <small className={hiddenProcesses ? 'bad' : ''}>{hiddenProcesses} hidden</small>
          </button>
          <button
            type="button"
            className="tile"
            onClick={() => navigate({ view: 'activity', activity: { tab: 'irps' } })}
          >
            <b>{result.irps.length}</b> IRPs in flight
            <small>{result.threads.length} threads</small>
          </button>
        </div>
      </section>

      <section className="card severity">
        <h2>Findings by severity</h2>
        <div className="bars">
          {counts.map(({ severity, n }) => (
            <button
              type="button"
              key={severity}
              className="bar-row"
              onClick={() => navigate({ view: 'findings' })}
              data-testid={`severity-${severity}`}
            >
              <SeverityBadge severity={severity} />
              <span className="bar">
                <span className={`fill sev-bg-${severity}`} style={{ width: `${(n / maxCount) * 100}%` }} />
              </span>
              <b>{n}</b>
            </button>
          ))}
        </div>
        <ul className="top-findings">
          {top.map((f) => (
            <li key={f.id}>
              <SeverityBadge severity={f.severity} />{' '}
              <FindingLink id={f.id}>
                <span className="kind">{f.kind}</span> <Text value={f.subject} />
              </FindingLink>
            </li>
          ))}
          {result.findings.length > top.length && (
            <li>
              <button type="button" className="link" onClick={() => navigate({ view: 'findings' })}>
                {result.findings.length - top.length} more in Findings ›
              </button>
            </li>
          )}
          {top.length === 0 && (
            <li className="muted">
              {info.dtb ? 'No findings: nothing in this image bends the I/O path.' : 'Nothing was analysed.'}
            </li>
          )}
        </ul>
      </section>

      <section className="card timings">
        <h2>
          Timings{' '}
          <span className="sub">
            {formatMs(totalMs)} · {formatSize(result.stats.bytesScanned)} scanned · {result.stats.workers}{' '}
            worker{result.stats.workers === 1 ? '' : 's'}
          </span>
        </h2>
        {timingGroups.map((group) => (
          <div key={group.title} className="bars">
            <h3 className="bars-title">{group.title}</h3>
            {group.timings.map((t) => (
              <div key={t.stage} className="bar-row static">
                <span className="stage">
                  <Text value={t.stage} />
                </span>
                <span className="bar">
                  <span
                    className="fill timing"
                    style={{ width: `${longestMs ? Math.max(1, (t.ms / longestMs) * 100) : 0}%` }}
                  />
                </span>
                <b>{formatMs(t.ms)}</b>
              </div>
            ))}
          </div>
        ))}
      </section>
    </div>
  );
}
