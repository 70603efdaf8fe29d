/**
 * Per-step CPU and wall time of a training run, taken from the trainer's progress output: with
 * `isTTY` set the trainer reports after every step, so the time between two reports is one step
 * (plus validation or a checkpoint when one ran in between: the median leaves those out).
 * Shared by the benchmarks that train (bench/hierarchical-vs-flat.ts, bench/bu-bil.ts).
 */
import type { ProgressSink } from '../runtime/train/progress.js';

export interface StepTimes {
  /** Intervals measured (between two progress reports; one step each when reported every step). */
  measured: number;
  medianCpuMs: number;
  medianWallMs: number;
  meanCpuMs: number;
  meanWallMs: number;
}

export interface StepTimer {
  /** A progress sink for `train({ out })`: reports after every step. */
  sink: ProgressSink;
  /** Feed text printed by a command (e.g. compile-and-train's stdout, a line every N steps). */
  observe(text: string): void;
  result(): StepTimes;
}

const STEP_LINE = /step\s+(\d+)\/\d+/;

/** `echo` receives the progress text (without the carriage returns of the updating line). */
export function stepTimer(echo: (line: string) => void = () => {}): StepTimer {
  // Per interval between two progress reports: time per step (the interval over its steps).
  const cpu: number[] = [];
  const wall: number[] = [];
  const now = () => {
    const u = process.cpuUsage();
    return { cpu: (u.user + u.system) / 1000, wall: performance.now() };
  };
  // The first interval starts here (it includes the first step's warm-up: the median drops it).
  let last: { cpu: number; wall: number; step: number } | undefined;
  const observe = (text: string): boolean => {
    const match = STEP_LINE.exec(text);
    if (!match) return false;
    const t = now();
    const step = Number(match[1]);
    if (last && step > last.step) {
      const steps = step - last.step;
      cpu.push((t.cpu - last.cpu) / steps);
      wall.push((t.wall - last.wall) / steps);
    }
    last = { ...t, step };
    return true;
  };
  last = { ...now(), step: 0 };
  const sink: ProgressSink = {
    isTTY: true,
    write(text: string) {
      if (text.startsWith('\r') && observe(text)) {
        // Echo only every 50th step: the log stays readable.
        const step = Number(STEP_LINE.exec(text)![1]);
        if (step % 50 === 0) echo(text.replace(/^\r/, '').trimEnd());
      } else if (text.trim()) {
        echo(text.trim());
      }
      return true;
    },
  };
  return {
    sink,
    observe: (text) => void observe(text),
    result: () => ({
      measured: cpu.length,
      medianCpuMs: median(cpu),
      medianWallMs: median(wall),
      meanCpuMs: average(cpu),
      meanWallMs: average(wall),
    }),
  };
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function average(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
