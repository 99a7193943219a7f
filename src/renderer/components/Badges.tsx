import type { HandlerVerdict, Severity } from '../../common/findings';

const SEVERITY_ICON: Record<Severity, string> = {
  critical: '◆',
  high: '▲',
  medium: '■',
  low: '●',
  info: '○',
};

export function SeverityBadge({ severity }: { severity: Severity | string }) {
  return (
    <span className={`badge sev sev-${severity}`} data-severity={severity}>
      <span className="icon" aria-hidden>
        {SEVERITY_ICON[severity as Severity] ?? '○'}
      </span>
      {severity}
    </span>
  );
}

export const VERDICT_INFO: Record<
  HandlerVerdict,
  { icon: string; label: string; tone: string; help: string }
> = {
  'own-image': { icon: '✓', label: 'own image', tone: 'ok', help: "inside the driver's own image" },
  'kernel-default': {
    icon: '∅',
    label: 'kernel default',
    tone: 'muted',
    help: 'IopInvalidDeviceRequest, the kernel default',
  },
  kernel: { icon: 'K', label: 'kernel', tone: 'neutral', help: 'elsewhere in the kernel (built-in drivers)' },
  delegated: {
    icon: '↪',
    label: 'delegated',
    tone: 'neutral',
    help: 'an expected port/class/framework module',
  },
  'other-module': {
    icon: '⚠',
    label: 'other module',
    tone: 'high',
    help: 'points into another module: an IRP hook',
  },
  'no-module': {
    icon: '✖',
    label: 'no module',
    tone: 'critical',
    help: 'points into no loaded module (pool, unmapped)',
  },
  'inline-patched': {
    icon: '⚡',
    label: 'inline patched',
    tone: 'critical',
    help: 'the routine starts with a jump out of its module',
  },
};

export function VerdictBadge({ verdict }: { verdict: HandlerVerdict }) {
  const info = VERDICT_INFO[verdict] ?? { icon: '?', label: verdict, tone: 'muted', help: verdict };
  return (
    <span className={`badge verdict tone-${info.tone}`} title={info.help} data-verdict={verdict}>
      <span className="icon" aria-hidden>
        {info.icon}
      </span>
      {info.label}
    </span>
  );
}
