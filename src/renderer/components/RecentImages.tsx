// The images analysed before, on the start page: each reopens from its case at once when the
// file is unchanged (the analysis runs again, and says why, when it is not).

import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useApp } from '../state/app-state';
import { Text } from './Text';
import { visibleText } from '../util/format';

export function RecentImages() {
  const { navigate, notify } = useApp();
  const [recent, setRecent] = useState<string[]>([]);
  useEffect(() => {
    api.recent().then(setRecent, () => undefined);
  }, []);
  if (recent.length === 0) return null;
  return (
    <div className="recent-images" data-testid="recent-images">
      <h2>Recent cases</h2>
      <ul className="plain-list">
        {recent.slice(0, 10).map((path) => (
          <li key={path}>
            <button
              type="button"
              className="link"
              onClick={() =>
                api.open({ path }).then(
                  (session) => navigate({ session: session.id, view: 'overview' }),
                  (error: Error) => notify('error', error.message),
                )
              }
              title={visibleText(path)}
            >
              <Text value={path.split(/[\\/]/).slice(-2).join('/')} />
            </button>{' '}
            <span className="muted small">
              <Text value={path} />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
