/**
 * The local engine: a bounded pool of `punet sweep-task SWEEP INDEX` processes on this machine,
 * each writing to logs/NAME.log. Default pool size: cores / threads per run (PUNET_WASM_THREADS,
 * 1 when unset), at least 1. Finished tasks are skipped, so running the sweep again continues it.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { THREADS_ENV } from '../../backends/wasm-threads.js';
import { logsDir, taskProgress, type SweepManifest, type SweepTask } from '../manifest.js';
import { punetBin } from './bin.js';

export function defaultWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const threads = Math.max(1, Number.parseInt(env[THREADS_ENV] ?? '1', 10) || 1);
  return Math.max(1, Math.floor(availableParallelism() / threads));
}

export interface LocalResult {
  done: number;
  failed: SweepTask[];
}

export async function runLocal(dir: string, m: SweepManifest, workers: number, out: (s: string) => void): Promise<LocalResult> {
  const todo = m.tasks.filter((t) => taskProgress(dir, t).state !== 'done');
  let done = m.tasks.length - todo.length;
  const failed: SweepTask[] = [];
  out(`local engine: ${todo.length} of ${m.tasks.length} tasks to run, ${Math.min(workers, todo.length)} at a time; logs in ${logsDir(dir)}\n`);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const task = todo[next++]!;
      const started = Date.now();
      out(`task ${task.index} (${task.name}): started\n`);
      const code = await runTaskProcess(dir, task);
      if (code === 0) done++;
      else failed.push(task);
      const secs = ((Date.now() - started) / 1000).toFixed(0);
      out(`task ${task.index} (${task.name}): ${code === 0 ? 'done' : `failed (exit ${code}, see ${taskLog(dir, task)})`} in ${secs} s; tasks done: ${done}/${m.tasks.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, worker));
  return { done, failed };
}

export function taskLog(dir: string, task: SweepTask): string {
  return join(logsDir(dir), `${task.name}.log`);
}

function runTaskProcess(dir: string, task: SweepTask): Promise<number> {
  const fd = openSync(taskLog(dir, task), 'a');
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [punetBin(), 'sweep-task', dir, String(task.index)], { stdio: ['ignore', fd, fd] });
    child.on('error', () => resolvePromise(127));
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  }).finally(() => closeSync(fd)) as Promise<number>;
}
