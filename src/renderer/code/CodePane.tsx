// A read-only Monaco editor for disassembly and decoded structures (loaded lazily: Monaco is the
// heaviest part of the renderer and only the hex view needs it).

import Editor from '@monaco-editor/react';
import './monaco-setup';

export default function CodePane({ text, language }: { text: string; language: string }) {
  return (
    <Editor
      value={text}
      language={language}
      theme="irpscope-dark"
      loading={<pre className="code-block">{text}</pre>}
      options={{
        readOnly: true,
        domReadOnly: true,
        minimap: { enabled: false },
        lineNumbers: 'off',
        glyphMargin: false,
        folding: false,
        fontFamily: 'DejaVu Sans Mono, Consolas, monospace',
        fontSize: 12,
        scrollBeyondLastLine: false,
        renderLineHighlight: 'none',
        // A decoded name or a long operand wraps rather than running out of the narrow pane.
        wordWrap: 'on',
        wrappingIndent: 'indent',
        contextmenu: false,
        automaticLayout: true,
        occurrencesHighlight: 'off',
        links: false,
      }}
    />
  );
}
