// What a session shows until its result is ready: determinate progress with the stage name and a
// Cancel that ends the worker; a failure with its stage and reason; a cancelled analysis.

import type { SessionSummary } from '../../common/api';
import { api } from '../api/client';
import { useApp } from '../state/app-state';
import { Text } from './Text';

export function SessionStatus({ session }: { session: SessionSummary }) {
  const { notify } = useApp();
  const fraction = session.progress?.fraction ?? 0;
  if (session.state === 'failed') {
    return (
      <div className="session-status failed" data-testid="session-failed">
        <h2>Analysis failed</h2>
        <p className="error-line">
          analysis failed at stage <b>{session.error?.stage ?? '?'}</b>:{' '}
          <Text value={session.error?.message ?? 'unknown reason'} />
        </p>
        <p className="muted">
          <Text value={session.path} />
        </p>
        <p className="muted">The image could not be analysed; the rest of the workbench is unaffected.</p>
        <div className="actions">
          <button
            type="button"
            onClick={() => api.close(session.id).catch((e: Error) => notify('error', e.message))}
          >
            Close this image
          </button>
        </div>
      </div>
    );
  }
  if (session.state === 'cancelled') {
    return (
      <div className="session-status" data-testid="session-cancelled">
        <h2>Analysis cancelled</h2>
        <p className="muted">
          <Text value={session.path} />
        </p>
        <div className="actions">
          <button
            type="button"
            onClick={async () => {
              try {
                await api.close(session.id);
                await api.open({ path: session.path, role: session.role });
              } catch (e) {
                notify('error', (e as Error).message);
              }
            }}
          >
            Analyse again
          </button>
          <button
            type="button"
            onClick={() => api.close(session.id).catch((e: Error) => notify('error', e.message))}
          >
            Close
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="session-status" data-testid="session-progress">
      <h2>
        Analysing <Text value={session.label} />
      </h2>
      <div
        className="progress-large"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
      >
        <div className="fill" style={{ width: `${Math.max(2, fraction * 100)}%` }} />
      </div>
      <p className="stage" data-testid="progress-stage">
        {session.state === 'queued' && !session.progress ? (
          'waiting…'
        ) : (
          <Text value={session.progress?.stage ?? 'starting'} />
        )}
        {session.progress?.detail ? (
          <span className="muted">
            {' '}
            — <Text value={session.progress.detail} />
          </span>
        ) : null}
        <span className="pct">{Math.round(fraction * 100)} %</span>
      </p>
      {session.info && (
        <p className="muted">
          <Text value={session.info.format.description} /> · {session.info.arch ?? '?'} ·{' '}
          {session.info.build?.value.name ?? 'build unknown'}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="danger"
          onClick={() => api.cancel(session.id).catch((e: Error) => notify('error', e.message))}
          data-testid="cancel-analysis"
        >
          Cancel
        </button>
      </div>
    </div>
  );
}
