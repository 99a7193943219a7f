// Saves a file the backend made (a report, an extracted image): the native dialog on the desktop,
// a download in the browser.

import type { ReportFile } from '../../common/api';
import { desktop } from '../api/client';

export async function saveFile(file: ReportFile): Promise<string | null> {
  if (desktop) return desktop.saveFile(file);
  const bytes =
    file.encoding === 'base64' ? Uint8Array.from(atob(file.content), (c) => c.charCodeAt(0)) : file.content;
  const url = URL.createObjectURL(new Blob([bytes], { type: file.mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return file.fileName;
}
