// Builds the workbench when its sources changed, starts web mode on the demo case (the built
// server with the real engine) and waits until both demo analyses are ready. The specs find
// the server through IRPSCOPE_E2E_URL.

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DATA, ROOT, SERVER_BUNDLE } from './paths';

interface Server {
  url: string;
  origin: string;
  backend: { sessions(): Promise<Array<{ state: string; label: string; error: unknown }>> };
  close(): Promise<void>;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const build = spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('the workbench did not build');
  mkdirSync(DATA, { recursive: true });
  const { startServer } = (await import(pathToFileURL(SERVER_BUNDLE).href)) as {
    startServer(options: object): Promise<Server>;
  };
  const server = await startServer({ dataDirectory: DATA, openDemoIfEmpty: true });
  const deadline = Date.now() + 180_000;
  while (true) {
    const sessions = await server.backend.sessions();
    if (sessions.length > 0 && sessions.every((s) => s.state === 'ready')) break;
    const failed = sessions.find((s) => s.state === 'failed');
    if (failed) throw new Error(`the demo case failed: ${JSON.stringify(failed.error)}`);
    if (Date.now() > deadline) throw new Error('the demo case was not ready in time');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.env.IRPSCOPE_E2E_URL = server.url;
  return () => server.close();
}
