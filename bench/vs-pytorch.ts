/**
 * punet beside PyTorch, in one invocation, on the same Probabilistic U-Net (the resolved spec is
 * handed to bench/pytorch/prob_unet.py, which builds the same layers, loss and optimiser from it):
 * training forward, prepare + 16 prior samples, and a forward + backward + Adam step, at 1 and 2
 * threads, for punet with native kernels, punet on plain wasm, and PyTorch CPU. Each measurement
 * is a fresh process (threads are per process; peak RSS is the process's), and the systems take
 * turns in alternating order, so a change in machine load hits all of them alike. CPU seconds
 * (user + system) are the primary figure on a shared machine; wall seconds and the load average
 * are reported beside them.
 *
 * PyTorch comes from the system (Debian: apt-get install python3-torch); nothing is installed
 * here. Without it the punet rows are still measured and the ratios are left out.
 *
 *   node bench-dist/bench/vs-pytorch.js [--spec examples/prob-unet-lidc.punet] [--batch 8] [--size N]
 *                                 [--threads 1,2] [--rounds 1] [--repeats 2] [--systems native,wasm,pytorch]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadNativeAddon } from '../runtime/backends/native.js';
import type { CompilerBenchResult } from './compiler.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: bench-dist/bench/ when built, bench/ in the sources. */
const root = here.endsWith(join('bench-dist', 'bench')) ? join(here, '..', '..') : join(here, '..');

type System = 'native' | 'wasm' | 'pytorch';
const PHASES = ['trainForward', 'sample', 'trainStep'] as const;
type Phase = (typeof PHASES)[number];

interface Measured {
  seconds: number;
  cpuSeconds: number;
}
interface Run {
  system: System;
  threads: number;
  round: number;
  label: string;
  parameters: number;
  peakRssMB: number;
  phases: Record<Phase, Measured>;
  loadBefore: number;
  loadAfter: number;
}

/** The python that imports torch: the one on PATH, else Debian's (a pyenv shim may hide it). */
export function findTorchPython(): { python: string; version: string } | { missing: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return { missing: 'PyTorch not found for python3 or /usr/bin/python3 (Debian: apt-get install python3-torch)' };
}

function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout;
}

function measure(system: System, threads: number, o: { spec?: string; specJson: string; batch: number; size?: number; repeats: number; python?: string }): Omit<Run, 'round'> {
  const loadBefore = os.loadavg()[0]!;
  let out: { parameters: number; peakRssMB: number; label: string } & Record<Phase, Measured>;
  if (system === 'pytorch') {
    const args = [join(root, 'bench', 'pytorch', 'prob_unet.py'), o.specJson, '--batch', String(o.batch), '--repeats', String(o.repeats), '--threads', String(threads)];
    const r = JSON.parse(runChild(o.python!, args, { OMP_NUM_THREADS: String(threads) })) as CompilerBenchResult & { system: string };
    out = { ...r, label: r.system };
  } else {
    const args = [join(here, 'compiler.js'), '--backend', 'wasm', '--json', '--batch', String(o.batch), '--repeats', String(o.repeats)];
    if (o.spec) args.push('--spec', o.spec);
    if (o.size !== undefined) args.push('--size', String(o.size));
    // Native: oneDNN's threads; the wasm pool keeps its default there (one thread, see wasm-threads.ts).
    const env: NodeJS.ProcessEnv =
      system === 'native' ? { PUNET_THREADS: String(threads), PUNET_WASM_THREADS: '', PUNET_NATIVE: '1' } : { PUNET_WASM_THREADS: String(threads), PUNET_NATIVE: '0' };
    const r = JSON.parse(runChild(process.execPath, args, env)) as CompilerBenchResult;
    if (system === 'native' && !r.backendReport.includes('native oneDNN')) throw new Error(`native run fell back to wasm: ${r.backendReport}`);
    out = { ...r, label: r.backendReport };
  }
  return {
    system,
    threads,
    label: out.label,
    parameters: out.parameters,
    peakRssMB: out.peakRssMB,
    phases: Object.fromEntries(PHASES.map((p) => [p, { seconds: out[p].seconds, cpuSeconds: out[p].cpuSeconds }])) as Record<Phase, Measured>,
    loadBefore,
    loadAfter: os.loadavg()[0]!,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function formatTable(runs: Run[], systems: System[], threadCounts: number[]): string {
  const lines: string[] = [];
  const cell = (system: System, threads: number, phase: Phase) => {
    const mine = runs.filter((r) => r.system === system && r.threads === threads);
    if (!mine.length) return undefined;
    return { cpu: median(mine.map((r) => r.phases[phase].cpuSeconds)), wall: median(mine.map((r) => r.phases[phase].seconds)) };
  };
  const names: Record<Phase, string> = { trainForward: 'training forward', sample: 'prepare + 16 samples', trainStep: 'training step' };
  lines.push(`${'phase'.padEnd(22)} ${'system'.padEnd(8)} thr  ${'cpu s'.padStart(8)} ${'wall s'.padStart(8)}  ${'cpu/torch'.padStart(9)} ${'wall/torch*'.padStart(11)}`);
  for (const phase of PHASES) {
    // Wall ratios are against PyTorch's best wall time at any thread count (the issue's target).
    const torchWalls = threadCounts.map((t) => cell('pytorch', t, phase)?.wall).filter((x): x is number => x !== undefined);
    const bestTorchWall = torchWalls.length ? Math.min(...torchWalls) : undefined;
    for (const threads of threadCounts) {
      const torch = cell('pytorch', threads, phase);
      for (const system of systems) {
        const c = cell(system, threads, phase);
        if (!c) continue;
        const cpuRatio = torch ? (c.cpu / torch.cpu).toFixed(2) + 'x' : '-';
        const wallRatio = bestTorchWall ? (c.wall / bestTorchWall).toFixed(2) + 'x' : '-';
        lines.push(`${names[phase].padEnd(22)} ${system.padEnd(8)} ${String(threads).padStart(3)}  ${c.cpu.toFixed(3).padStart(8)} ${c.wall.toFixed(3).padStart(8)}  ${cpuRatio.padStart(9)} ${wallRatio.padStart(11)}`);
      }
    }
  }
  lines.push('* wall time over PyTorch\'s best wall time at any thread count; cpu/torch at the same thread count');
  lines.push('peak RSS (MB, whole process: forward, sampling and step):');
  for (const threads of threadCounts) {
    for (const system of systems) {
      const mine = runs.filter((r) => r.system === system && r.threads === threads);
      if (mine.length) lines.push(`  ${system.padEnd(8)} ${threads} thread(s): ${median(mine.map((r) => r.peakRssMB)).toFixed(0)}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      batch: { type: 'string', default: '8' },
      size: { type: 'string' },
      threads: { type: 'string', default: '1,2' },
      rounds: { type: 'string', default: '1' },
      repeats: { type: 'string', default: '2' },
      systems: { type: 'string', default: 'native,wasm,pytorch' },
    },
  });
  const threadCounts = values.threads.split(',').map(Number);
  let systems = values.systems.split(',') as System[];
  const bad = systems.filter((s) => !['native', 'wasm', 'pytorch'].includes(s));
  if (bad.length || threadCounts.some((t) => !Number.isInteger(t) || t < 1)) {
    process.stderr.write(`bench/vs-pytorch: --systems takes native,wasm,pytorch and --threads positive integers (got ${values.systems} / ${values.threads})\n`);
    process.exit(2);
  }
  const torch = findTorchPython();
  if ('missing' in torch && systems.includes('pytorch')) {
    process.stdout.write(`${torch.missing}: PyTorch rows and ratios left out\n`);
    systems = systems.filter((s) => s !== 'pytorch');
  }
  const native = loadNativeAddon({ ...process.env, PUNET_NATIVE: '1' });
  if (!native.ok && systems.includes('native')) {
    process.stdout.write(`native kernels unavailable (${native.reason}): native rows left out\n`);
    systems = systems.filter((s) => s !== 'native');
  }
  // The resolved spec, once, for the PyTorch side (the same model the punet side compiles).
  const { specFromFile, contractSpec } = await import('./compiler.js');
  const size = values.size === undefined ? undefined : Number(values.size);
  const spec = values.spec ? await specFromFile(values.spec, size) : contractSpec(size ?? 128);
  const specJson = join(mkdtempSync(join(os.tmpdir(), 'punet-vs-pytorch-')), 'spec.json');
  writeFileSync(specJson, JSON.stringify(spec));
  const batch = Number(values.batch);
  const o = { spec: values.spec, specJson, batch, size, repeats: Number(values.repeats), python: 'python' in torch ? torch.python : undefined };
  process.stdout.write(
    `${spec.model}: batch ${batch}, ${spec.input.size.join('x')}; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ` +
      `${'version' in torch ? `PyTorch ${torch.version} (${torch.python})` : 'no PyTorch'}\n`,
  );

  const runs: Run[] = [];
  const rounds = Number(values.rounds);
  for (let round = 0; round < rounds; round++) {
    for (const threads of threadCounts) {
      // Alternate the order between rounds and thread counts: no system always runs first.
      const order = (round + threadCounts.indexOf(threads)) % 2 === 0 ? systems : [...systems].reverse();
      for (const system of order) {
        const run = { ...measure(system, threads, o), round };
        runs.push(run);
        const f = run.phases;
        process.stdout.write(
          `round ${round + 1} ${system} ${threads}t: forward ${f.trainForward.cpuSeconds.toFixed(2)} cpu s / ${f.trainForward.seconds.toFixed(2)} wall s, ` +
            `16 samples ${f.sample.cpuSeconds.toFixed(2)} / ${f.sample.seconds.toFixed(2)}, step ${f.trainStep.cpuSeconds.toFixed(2)} / ${f.trainStep.seconds.toFixed(2)}, ` +
            `peak RSS ${run.peakRssMB.toFixed(0)} MB, ${run.parameters.toLocaleString('en-US')} parameters, load ${run.loadBefore.toFixed(1)} -> ${run.loadAfter.toFixed(1)}\n`,
        );
      }
    }
  }
  const params = new Set(runs.map((r) => r.parameters));
  if (params.size > 1) process.stdout.write(`WARNING: the systems built models of different sizes: ${[...params].join(' vs ')} parameters\n`);
  process.stdout.write('\n' + formatTable(runs, systems, threadCounts) + '\n');
  const results = join(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  const file = join(results, `vs-pytorch-${spec.model}.json`);
  writeFileSync(file, JSON.stringify({ spec: spec.model, batch, size: spec.input.size, loadavg: os.loadavg(), runs }, null, 2));
  process.stdout.write(`saved ${file}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`bench/vs-pytorch: ${(err as Error)?.message ?? err}\n`);
    process.exitCode = 1;
  });
}
