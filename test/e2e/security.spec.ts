// Web mode's token stays with its own origin. The review that found it leaking: the workbench kept
// the token in a cookie, and a browser sends a host's cookies to every port, so a plain HTTP server
// on another port of 127.0.0.1 received it on every request. Here the workbench is used, then the
// same browser talks to such a server, which records everything it is sent.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, isElectron, test } from './support/fixtures';

test('no request to another local server carries the token', async ({ workbench: page }, testInfo) => {
  test.skip(isElectron(testInfo), 'the desktop app has no web token');
  const token = new URL(process.env.IRPSCOPE_E2E_URL!).hash.replace('#token=', '');
  expect(token.length).toBeGreaterThan(20);
  // The workbench works (API calls and the event socket carry the token)…
  await page.click('[data-testid="nav-drivers"]');
  await expect(page.locator('[data-testid="table-body-drivers"] [role="row"]').first()).toBeVisible();
  // …the token is no longer in the address bar, and the page has no cookie.
  expect(page.url()).not.toContain(token);
  expect(await page.evaluate('document.cookie')).toBe('');

  const seen: IncomingHttpHeaders[] = [];
  const other = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>another local service</title><img src="/pixel.png">');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const port = (other.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.evaluate((p) => fetch(`http://127.0.0.1:${p}/api`, { credentials: 'include' }), port);
    await page.goto(`http://localhost:${port}/again`);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const headers of seen) expect(JSON.stringify(headers)).not.toContain(token);
  } finally {
    other.close();
  }
});
