/**
 * Training progress on the terminal: one updating line on a TTY, plain lines every `every`
 * steps otherwise (logs, CI). Steps/s is measured over this session only, so a resumed run's
 * ETA is not skewed by the steps done before it.
 */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private startTime = 0;
  private startStep = 0;
  private lastLineLength = 0;

  constructor(
    private readonly out: ProgressSink,
    private readonly total: number,
    private readonly every: number = Math.max(1, Math.round(total / 20)),
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(step: number): void {
    this.startTime = this.now();
    this.startStep = step;
  }

  /** After each completed step. */
  update(step: number, values: Record<string, number>): void {
    const tty = Boolean(this.out.isTTY);
    if (!tty && step % this.every !== 0 && step !== this.total) return;
    const line = this.format(step, values);
    if (tty) {
      this.out.write(`\r${line}${' '.repeat(Math.max(0, this.lastLineLength - line.length))}`);
      this.lastLineLength = line.length;
    } else {
      this.out.write(line + '\n');
    }
  }

  /** A message that must not be overwritten by the updating line. */
  note(message: string): void {
    if (this.out.isTTY && this.lastLineLength) {
      this.out.write('\n');
      this.lastLineLength = 0;
    }
    this.out.write(message + '\n');
  }

  finish(): void {
    if (this.out.isTTY && this.lastLineLength) this.out.write('\n');
    this.lastLineLength = 0;
  }

  format(step: number, values: Record<string, number>): string {
    const elapsed = (this.now() - this.startTime) / 1000;
    const done = step - this.startStep;
    const rate = elapsed > 0 && done > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - step) / rate : NaN;
    const width = String(this.total).length;
    const parts = [
      `step ${String(step).padStart(width)}/${this.total}`,
      `loss ${fmt(values.loss)}`,
      `rec ${fmt(values.reconstruction)}`,
      `KL ${fmt(values.KL)}`,
      `${rate > 0 ? rate.toFixed(rate < 10 ? 2 : 1) : '-'} steps/s`,
      `ETA ${formatDuration(eta)}`,
    ];
    return parts.join('  ');
  }
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 4);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
