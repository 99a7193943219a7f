// The first screen of an image: what it is and how each fact was found, what it contains, what
// is wrong with it (findings by severity, most severe first) and where the time went.

import type { ReactNode } from 'react';
import type { SessionSummary } from '../../common/api';
import { countsOf, coverageReasons, findingsHeadline, partLabel } from '../../common/counts';
import { SEVERITIES, severityRank } from '../../common/findings';
import type { Coverage, CoveredPart, Discovered } from '../../common/model';
import { SeverityBadge } from '../components/Badges';
import { AddressLink, FindingLink } from '../components/Links';
import { Text } from '../components/Text';
import { useApp } from '../state/app-state';
import { formatMs, formatSize } from '../util/format';
import type { ResultIndex } from '../util/result-index';
import { CaseCard } from './CaseCard';
import { LayoutsCard } from './LayoutsCard';

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
  const n = countsOf(result);
  const c = result.coverage;
  const gaps = coverageReasons(result);
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
          <Tile
            part="drivers"
            count={n.drivers}
            coverage={c.drivers}
            onClick={() => navigate({ view: 'drivers' })}
          >
            <small>+{n.unloadedDrivers} unloaded</small>
          </Tile>
          <Tile
            part="devices"
            count={n.devices}
            coverage={c.devices}
            onClick={() => navigate({ view: 'devices' })}
          >
            <small>{coverageShort(c.links, `${n.links} symbolic links`)}</small>
          </Tile>
          <Tile
            part="modules"
            count={n.modules}
            coverage={c.modules}
            onClick={() => navigate({ view: 'modules' })}
          >
            <small className={n.unlinkedModules ? 'bad' : ''}>
              {judgedText(n.unlinkedModules, 'unlinked', c.modules)}
            </small>
          </Tile>
          <button type="button" className="tile" onClick={() => navigate({ view: 'drivers' })}>
            <b className={hooked ? 'bad' : ''}>{hooked}</b> suspicious handlers
            <small>in {index.hooked.size} drivers</small>
          </button>
          <Tile
            part="processes"
            count={n.processes}
            coverage={c.processes}
            onClick={() => navigate({ view: 'activity', activity: { tab: 'processes' } })}
          >
            <small className={n.hiddenProcesses ? 'bad' : ''}>
              {judgedText(n.hiddenProcesses, 'hidden', c.processes)}
            </small>
          </Tile>
          <Tile
            part="irps"
            count={n.irps}
            coverage={c.irps}
            onClick={() => navigate({ view: 'activity', activity: { tab: 'irps' } })}
          >
            <small>{coverageShort(c.threads, `${n.threads} threads`)}</small>
          </Tile>
        </div>
        {gaps.length > 0 && (
          <ul className="coverage" data-testid="coverage-gaps">
            {gaps.map((g, i) => (
              <li key={i}>
                <b>{g.parts.join(', ')}</b> {g.state === 'partial' ? 'partial' : 'not available'}:{' '}
                <Text value={g.reason} />
              </li>
            ))}
          </ul>
        )}
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
              {findingsHeadline(result) === 'No findings.'
                ? 'No findings: nothing in this image bends the I/O path.'
                : findingsHeadline(result)}
            </li>
          )}
        </ul>
      </section>

      <LayoutsCard info={info} />

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

/** A count with its coverage: a part that could not be read shows "not available", never a 0. */
function Tile({
  part,
  count,
  coverage,
  onClick,
  children,
}: {
  part: CoveredPart;
  count: number;
  coverage: Coverage;
  onClick: () => void;
  children: ReactNode;
}) {
  const why = coverage.missing.join('; ');
  return (
    <button
      type="button"
      className={`tile coverage-${coverage.state}`}
      onClick={onClick}
      title={why || undefined}
      data-testid={`tile-${part}`}
    >
      {coverage.state === 'unavailable' ? (
        <>
          <b className="absent">—</b> {partLabel(part)}
          <small className="absent">not available</small>
        </>
      ) : (
        <>
          <b>{count}</b> {partLabel(part)}
          {coverage.state === 'partial' && <small className="partial">partial</small>}
          {children}
        </>
      )}
    </button>
  );
}

function coverageShort(coverage: Coverage, text: string): string {
  return coverage.state === 'unavailable' ? text.replace(/^\d+ /, '') + ' not available' : text;
}

/** "2 hidden"; a zero only when the judgement could be made on the whole part. */
function judgedText(count: number, what: string, coverage: Coverage): string {
  return count > 0 || coverage.state === 'complete' ? `${count} ${what}` : `${what}: not judged`;
}
