// The desktop shell's navigation rule (src/main/security.ts): only the app's own pages. The
// Electron wiring itself needs an Electron binary; this is the decision it applies.

import { expect, test } from 'vitest';
import { isAppUrl, navigationAllowed } from '../../../src/main/security';

test('only the app:// origin, and the dev server on loopback in development, are the app', () => {
  expect(isAppUrl('app://irpscope/index.html')).toBe(true);
  expect(isAppUrl('app://irpscope/assets/x.js')).toBe(true);
  for (const url of [
    'https://example.com/',
    'http://127.0.0.1:5173/',
    'file:///etc/passwd',
    'app://evil/index.html',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'not a url',
  ])
    expect(navigationAllowed(url), url).toBe(false);
  expect(isAppUrl('http://localhost:5173/index.html', 'http://localhost:5173')).toBe(true);
  expect(isAppUrl('http://localhost:5174/index.html', 'http://localhost:5173')).toBe(false);
  // A dev server that is not on loopback is never trusted.
  expect(isAppUrl('http://example.com:5173/', 'http://example.com:5173')).toBe(false);
});
