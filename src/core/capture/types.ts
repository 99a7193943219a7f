// What a capture reports while it runs and when it is done (shared by every connector).

export interface CaptureProgress {
  stage: 'connecting' | 'pausing' | 'dumping' | 'cancelling' | 'resuming' | 'finishing';
  /** Bytes written so far and in all (0 when not known yet). */
  completed: number;
  total: number;
  detail?: string;
}

export interface CaptureResult {
  tool: 'qemu' | 'libvirt' | 'virtualbox' | 'vmware';
  /** The socket, domain, VM or .vmx captured. */
  source: string;
  vm: { name: string | null; memoryBytes: number | null; stateBefore: string; software: string };
  /** The image written (for VMware, the snapshot's state file, with its .vmem beside it). */
  file: string;
  bytes: number;
  wasRunning: boolean;
  /** How long the VM was paused by this capture (null when it was not running, or the tool does not say). */
  pausedMs: number | null;
  dumpMs: number;
  totalMs: number;
  format: string;
}
