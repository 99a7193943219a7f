// Monaco for offline use: the editor core only (no language bundles, no CDN), its worker built
// locally by Vite, two small read-only languages for disassembly and decoded structures, and a
// theme matching the workbench.

import * as monaco from 'monaco-editor/editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { loader } from '@monaco-editor/react';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

monaco.languages.register({ id: 'irpscope-asm' });
monaco.languages.setMonarchTokensProvider('irpscope-asm', {
  tokenizer: {
    root: [
      [/^\/\/.*$/, 'comment'],
      [/^[0-9a-f`]+(?=\s)/, 'number.address'],
      [/\b(jmp|call|ret|retn|jz|jnz|je|jne|ja|jb|jg|jl|jge|jle|jae|jbe|int3|push|pop)\b/, 'keyword.flow'],
      [/\b[a-z][a-z0-9]*\b(?=\s|$)/, 'keyword'],
      [
        /\b(r[a-z0-9]+|e[a-z]{2}|[a-d][lhx]|[sd]il|[sb]pl|[sd]i|[sb]p|cs|ds|es|fs|gs|ss)\b/,
        'variable.register',
      ],
      [/\b[0-9a-f]+h\b|\b0x[0-9a-f]+\b|\b\d+\b/, 'number'],
      [/[[\]+*,:]/, 'delimiter'],
    ],
  },
});

monaco.languages.register({ id: 'irpscope-struct' });
monaco.languages.setMonarchTokensProvider('irpscope-struct', {
  tokenizer: {
    root: [
      [/^\/\/.*$/, 'comment'],
      [/^\+0x[0-9a-f]+/, 'number.address'],
      [/"[^"]*"/, 'string'],
      [/\b0x[0-9a-f]+\b/, 'number'],
      [/\b(FILE_DEVICE|DO|DRVO|FILE)_[A-Z0-9_]+\b/, 'type'],
      [/[A-Za-z_][A-Za-z0-9_[\]]*/, 'identifier'],
    ],
  },
});

monaco.editor.defineTheme('irpscope-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [
    { token: 'number.address', foreground: '6b7a90' },
    { token: 'keyword.flow', foreground: 'ff9d5c', fontStyle: 'bold' },
    { token: 'keyword', foreground: '7cc4ff' },
    { token: 'variable.register', foreground: 'd4b8ff' },
    { token: 'number', foreground: 'b5e48c' },
    { token: 'string', foreground: 'f4d58d' },
    { token: 'type', foreground: '5eead4' },
    { token: 'comment', foreground: '6b7a90', fontStyle: 'italic' },
  ],
  colors: { 'editor.background': '#0d1117', 'editor.lineHighlightBackground': '#161b22' },
});

loader.config({ monaco });
