// Application state shared by every view: the open sessions (kept current by the backend's
// events), the navigation history, and the analysis results (fetched once per session).

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import type { AppInfo, CaptureSummary, CaseView, SessionSummary } from '../../common/api';
import { api } from '../api/client';
import { indexResult, type ResultIndex } from '../util/result-index';
import {
  currentLocation,
  moveHistory,
  navigateHistory,
  type History,
  type Location,
  type Navigate,
} from './navigation';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

interface AppState {
  appInfo: AppInfo | null;
  sessions: SessionSummary[];
  /** Captures started in this run of the backend, newest last. */
  captures: CaptureSummary[];
  /** The case of each session seen so far (null: it has none yet); see useCase. */
  cases: Record<string, CaseView | null>;
  setCase(session: string, view: CaseView | null): void;
  location: Location;
  navigate: Navigate;
  back(): void;
  forward(): void;
  canBack: boolean;
  canForward: boolean;
  notices: Notice[];
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
}

const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside AppProvider');
  return state;
}

type SessionAction =
  | { type: 'all'; sessions: SessionSummary[] }
  | { type: 'one'; session: SessionSummary }
  | { type: 'closed'; id: string };

function sessionsReducer(state: SessionSummary[], action: SessionAction): SessionSummary[] {
  switch (action.type) {
    case 'all': {
      // The list answers a request made at start; events that arrived meanwhile are newer.
      const known = new Set(state.map((s) => s.id));
      return [...state, ...action.sessions.filter((s) => !known.has(s.id))];
    }
    case 'one': {
      const index = state.findIndex((s) => s.id === action.session.id);
      if (index < 0) return [...state, action.session];
      const next = [...state];
      next[index] = action.session;
      return next;
    }
    case 'closed':
      return state.filter((s) => s.id !== action.id);
  }
}

type HistoryAction =
  { type: 'navigate'; patch: Partial<Location>; mode: 'push' | 'replace' } | { type: 'move'; step: -1 | 1 };

function historyReducer(state: History, action: HistoryAction): History {
  return action.type === 'navigate'
    ? navigateHistory(state, action.patch, action.mode)
    : moveHistory(state, action.step);
}

/** The session a new window should show: the primary image, else the first one. */
function preferredSession(sessions: SessionSummary[]): string | null {
  return (sessions.find((s) => s.role === 'primary') ?? sessions[0])?.id ?? null;
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [appInfo, setAppInfo] = useState<AppInfo | null>(null);
  const [sessions, dispatchSessions] = useReducer(sessionsReducer, []);
  const [captures, setCaptures] = useState<CaptureSummary[]>([]);
  const [cases, setCases] = useState<Record<string, CaseView | null>>({});
  const setCase = useCallback(
    (session: string, view: CaseView | null) => setCases((all) => ({ ...all, [session]: view })),
    [],
  );
  const [history, dispatchHistory] = useReducer(historyReducer, {
    entries: [{ session: null, view: 'overview' }],
    index: 0,
  });
  const [notices, setNotices] = useState<Notice[]>([]);
  const nextNotice = useRef(1);

  const navigate = useCallback<Navigate>(
    (patch, mode = 'push') => dispatchHistory({ type: 'navigate', patch, mode }),
    [],
  );
  const notify = useCallback((kind: Notice['kind'], text: string) => {
    const id = nextNotice.current++;
    setNotices((all) => [...all.slice(-3), { id, kind, text }]);
    if (kind === 'info') setTimeout(() => setNotices((all) => all.filter((n) => n.id !== id)), 5000);
  }, []);
  const dismiss = useCallback((id: number) => setNotices((all) => all.filter((n) => n.id !== id)), []);

  useEffect(() => {
    const unsubscribe = api.subscribe((event) => {
      if (event.type === 'session') dispatchSessions({ type: 'one', session: event.session });
      else if (event.type === 'session-closed') dispatchSessions({ type: 'closed', id: event.id });
      else if (event.type === 'case') setCase(event.session, event.case);
      else if (event.type === 'capture') {
        const capture = event.capture;
        setCaptures((all) =>
          all.some((c) => c.id === capture.id)
            ? all.map((c) => (c.id === capture.id ? capture : c))
            : [...all, capture],
        );
      }
    });
    api.appInfo().then(setAppInfo, (error: Error) => notify('error', error.message));
    api.captures().then(
      (all) => setCaptures((known) => [...known, ...all.filter((c) => !known.some((k) => k.id === c.id))]),
      () => undefined,
    );
    api.sessions().then(
      (all) => {
        dispatchSessions({ type: 'all', sessions: all });
      },
      (error: Error) => notify('error', `Cannot reach the IRPscope backend: ${error.message}`),
    );
    return unsubscribe;
  }, [notify, setCase]);

  const location = currentLocation(history);
  // Show a session as soon as there is one, and another when the shown one is closed. A session
  // just opened is shown before the event that lists it may have arrived (the open call's answer
  // and the event travel apart): an id never seen yet is given a moment before it is given up.
  const seenSessions = useRef(new Set<string>());
  useEffect(() => {
    for (const s of sessions) seenSessions.current.add(s.id);
    if (location.session !== null && sessions.some((s) => s.id === location.session)) return;
    const redirect = () => {
      const preferred = preferredSession(sessions);
      if (preferred !== location.session) navigate({ session: preferred }, 'replace');
    };
    if (location.session !== null && !seenSessions.current.has(location.session)) {
      const timer = setTimeout(redirect, 3000);
      return () => clearTimeout(timer);
    }
    redirect();
  }, [sessions, location.session, navigate]);

  const value = useMemo<AppState>(
    () => ({
      appInfo,
      sessions,
      captures,
      cases,
      setCase,
      location,
      navigate,
      back: () => dispatchHistory({ type: 'move', step: -1 }),
      forward: () => dispatchHistory({ type: 'move', step: 1 }),
      canBack: history.index > 0,
      canForward: history.index < history.entries.length - 1,
      notices,
      notify,
      dismiss,
    }),
    [appInfo, sessions, captures, cases, setCase, location, navigate, history, notices, notify, dismiss],
  );
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

// --- results ---

type ResultState =
  { status: 'loading' } | { status: 'ready'; index: ResultIndex } | { status: 'error'; message: string };

const resultCache = new Map<string, Promise<ResultIndex>>();

export function forgetResult(session: string): void {
  resultCache.delete(session);
}

/** The indexed result of a session once it is ready. */
export function useResult(session: SessionSummary | null | undefined): ResultState | null {
  const id = session?.id ?? null;
  const ready = session?.state === 'ready';
  const [state, setState] = useState<{ id: string | null; value: ResultState } | null>(null);
  useEffect(() => {
    if (!id || !ready) return;
    let promise = resultCache.get(id);
    if (!promise) {
      promise = api.result(id).then(indexResult);
      resultCache.set(id, promise);
      promise.catch(() => resultCache.delete(id));
    }
    let live = true;
    promise.then(
      (index) => live && setState({ id, value: { status: 'ready', index } }),
      (error: Error) => live && setState({ id, value: { status: 'error', message: error.message } }),
    );
    return () => {
      live = false;
    };
  }, [id, ready]);
  if (!id || !ready) return null;
  return state && state.id === id ? state.value : { status: 'loading' };
}

export function useActiveSession(): SessionSummary | null {
  const { sessions, location } = useApp();
  return sessions.find((s) => s.id === location.session) ?? null;
}

/** The case of a ready session, fetched once and kept current by case events. */
export function useCase(session: SessionSummary | null | undefined): CaseView | null {
  const { cases, setCase } = useApp();
  const id = session?.id ?? null;
  const ready = session?.state === 'ready';
  const known = id !== null && id in cases;
  useEffect(() => {
    if (!id || !ready || known) return;
    let live = true;
    api.caseOf(id).then(
      (view) => live && setCase(id, view),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [id, ready, known, setCase]);
  return id ? (cases[id] ?? null) : null;
}
