// `segkit bench`: how fast segkit runs a model on this machine, in each of its modes, against
// PyTorch (smp's same model) in the same run when a Python torch is there. Every (workload, side,
// mode, round) is its own process, so peak RSS and allocator state are its own; the sides take
// turns within a round and the table gives the median over rounds of each process's median.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';

export interface BenchSpec {
  arch: string;
  encoder: string;
  classes: number;
  phase: 'predict' | 'train';
  batch: number;
  size: number;
  threads: number;
  warmup: number;
  iters: number;
  /** predict only: model.optimizeForInference() first (BatchNorm folded), and with channels_last. */
  optimize?: 'fold' | 'fold+channelsLast';
  /** bfloat16 autocast around the forward pass. */
  precision?: 'bfloat16';
  /** train only: Adam with `fused: true` (one native pass per parameter). */
  fused?: boolean;
}

interface Mode {
  side: 'segkit' | 'pytorch';
  name: string;
  env: Record<string, string>;
  /** Only for these phases (default: both). */
  phases?: BenchSpec['phase'][];
  spec?: Partial<BenchSpec>;
  /** A bfloat16 mode: run only where the CPU has bfloat16 instructions (or with --bf16). */
  bf16?: boolean;
}

/** glibc tuned as segkit's allocator cache behaves: large blocks kept instead of unmapped. */
export const GLIBC_TUNED = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824';

const MODES: Mode[] = [
  { side: 'pytorch', name: 'default', env: {} },
  { side: 'segkit', name: 'default', env: {} },
  { side: 'segkit', name: 'no cache', env: { SEGKIT_CPU_CACHE_LIMIT: '0' } },
  { side: 'segkit', name: 'optimized', env: {}, phases: ['predict'], spec: { optimize: 'fold' } },
  { side: 'segkit', name: 'optimized channels_last', env: {}, phases: ['predict'], spec: { optimize: 'fold+channelsLast' } },
  { side: 'segkit', name: 'fused adam', env: {}, phases: ['train'], spec: { fused: true } },
  { side: 'pytorch', name: 'glibc tuned', env: { GLIBC_TUNABLES: GLIBC_TUNED } },
  // predict: the optimized model under bfloat16 autocast, against PyTorch's float32 (the goal) and bf16.
  { side: 'segkit', name: 'bf16', env: {}, spec: { precision: 'bfloat16', optimize: 'fold+channelsLast' }, bf16: true },
  { side: 'pytorch', name: 'glibc tuned bf16', env: { GLIBC_TUNABLES: GLIBC_TUNED }, spec: { precision: 'bfloat16' }, bf16: true },
];

/** Names of the float32 segkit modes: the best of them is segkit's float32 figure. */
const FP32 = MODES.filter((m) => m.side === 'segkit' && !m.bf16).map((m) => `${m.side} ${m.name}`);

interface BenchFlags {
  model: string;
  encoder: string;
  classes: number;
  batch: string;
  size: number;
  trainBatch: number;
  trainSize: number;
  threads: number;
  rounds: number;
  iters: number;
  python: string;
  torch: boolean;
  bf16: boolean;
  json?: boolean;
}

export interface BenchRow {
  workload: string;
  /** `${side} ${mode}` -> median ms, and peak RSS in MB. */
  ms: Record<string, number>;
  rssMb: Record<string, number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function runOne(mode: Mode, spec: BenchSpec, python: string): { ms: number[]; maxRssMb: number; source?: string; error?: string } {
  const worker = fileURLToPath(new URL(mode.side === 'segkit' ? './bench-worker.js' : '../../scripts/bench_torch.py', import.meta.url));
  const [cmd, args] = mode.side === 'segkit' ? [process.execPath, [worker]] : [python, [worker]];
  const r = spawnSync(cmd, [...args, JSON.stringify(spec)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(spec.threads), ...mode.env },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    throw new Error(`${mode.side} (${mode.name}) failed on ${spec.phase} batch ${spec.batch}: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** What `python` offers for the PyTorch side: its torch and smp, or why not. */
function pythonTorch(python: string): { source: string } | { error: string } {
  const probe = fileURLToPath(new URL('../../scripts/bench_torch.py', import.meta.url));
  const r = spawnSync(python, [probe, JSON.stringify({ probe: true })], { encoding: 'utf8' });
  if (r.error) return { error: `${python}: ${r.error.message}` };
  if (r.status !== 0)
    return { error: /No module named 'torch'/.test(r.stderr) ? `no torch in ${python}` : r.stderr.trim().split('\n').at(-1)! };
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  } catch {
    return { error: `${python} ${probe} printed ${JSON.stringify(r.stdout.slice(0, 200))}` };
  }
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  return [line(head), `|${w.map((n, i) => (i === 0 ? `${'-'.repeat(n + 1)}-` : `${'-'.repeat(n + 1)}:`)).join('|')}|`, ...rows.map(line)];
}

export function benchLines(rows: BenchRow[], modes: string[]): string[] {
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : '-');
  const fmt = (v?: number) => (v === undefined ? '-' : v.toFixed(0));
  const torch = modes.some((m) => m.startsWith('pytorch'));
  const bf16 = modes.includes('segkit bf16');
  const ratios: [string, (r: BenchRow) => string][] = torch
    ? [
        ['default vs PyTorch', (r) => ratio(r.ms['pytorch default'], r.ms['segkit default'])],
        ['best vs PyTorch', (r) => ratio(r.ms['pytorch default'], best(r))],
        ['best vs tuned', (r) => ratio(r.ms['pytorch glibc tuned'], best(r))],
        ...(bf16
          ? ([
              ['bf16 vs tuned', (r) => ratio(r.ms['pytorch glibc tuned'], r.ms['segkit bf16'])],
              ['bf16 vs tuned bf16', (r) => ratio(r.ms['pytorch glibc tuned bf16'], r.ms['segkit bf16'])],
            ] as [string, (r: BenchRow) => string][])
          : []),
      ]
    : [];
  const head = ['workload', ...modes.map((m) => `${m} ms`), ...ratios.map(([h]) => h)];
  const body = rows.map((r) => [r.workload, ...modes.map((m) => fmt(r.ms[m])), ...ratios.map(([, f]) => f(r))]);
  const rss = rows.map((r) => [r.workload, ...modes.map((m) => fmt(r.rssMb[m]))]);
  return [
    ...table(head, body),
    '',
    'peak RSS, MB (each process builds its model, then runs the workload):',
    ...table(['workload', ...modes], rss),
  ];
}

/** The fastest float32 segkit mode's time. */
function best(r: BenchRow): number | undefined {
  const ms = FP32.map((m) => r.ms[m]).filter((v): v is number => v !== undefined);
  return ms.length ? Math.min(...ms) : undefined;
}

function intList(v: string): string {
  if (!/^\d+(,\d+)*$/.test(v) || v.split(',').some((n) => Number(n) < 1)) {
    throw new InvalidArgumentError(`expected positive integers separated by commas, like "1,4", got "${v}"`);
  }
  return v;
}
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description("time a model's prediction and training step in segkit's modes, and in PyTorch (smp) when python3 has torch")
    .option('--model <arch>', 'architecture, as createModel names it', 'unet')
    .option('--encoder <name>', 'encoder', 'resnet34')
    .option('--classes <n>', 'output classes', positive, 1)
    .option('--batch <list>', 'prediction batch sizes', intList, '1,4')
    .option('--size <px>', 'prediction input side', positive, 512)
    .option('--train-batch <n>', 'training step batch size', positive, 4)
    .option('--train-size <px>', 'training step input side', positive, 256)
    .option('--threads <n>', 'intra-op threads on both sides (default: all cores)', positive)
    .option('--rounds <n>', 'fresh processes per mode and workload', positive, 3)
    .option('--iters <n>', 'timed iterations per process, after one warm-up', positive, 3)
    .option('--python <path>', 'the Python with torch to compare against', process.env.PYTHON ?? 'python3')
    .option('--no-torch', 'segkit only')
    .option('--no-bf16', 'skip the bfloat16 modes (run by default where the CPU has bfloat16 instructions)')
    .option('--json', 'print the results as JSON')
    .action(async (flags: BenchFlags) => {
      const { listModels } = await import('../models/index.js');
      const { availableParallelism } = await import('node:os');
      if (!listModels().includes(flags.model)) {
        throw new Error(`--model: expected one of ${listModels().join(', ')}, got "${flags.model}"`);
      }
      const threads = flags.threads ?? availableParallelism();
      let probe = flags.torch ? pythonTorch(flags.python) : null;
      // Debian's python3-torch lives in the system Python, which a venv or pyenv on PATH hides.
      if (probe && 'error' in probe && flags.python === 'python3') {
        const system = pythonTorch('/usr/bin/python3');
        if ('source' in system) [probe, flags.python] = [system, '/usr/bin/python3'];
      }
      const torchVersion = probe && 'source' in probe ? probe.source : null;
      const { torch } = await import('../index.js');
      const info = torch.buildInfo();
      const modes = MODES.filter((m) => (m.side === 'segkit' || torchVersion !== null) && (!m.bf16 || (flags.bf16 && info.bf16)));
      const say = (s: string) => (flags.json ? process.stderr.write(`${s}\n`) : console.log(s));
      if (probe && 'error' in probe) say(`(PyTorch side unavailable: ${probe.error}; segkit only, --python picks another Python)`);
      const base = { arch: flags.model, encoder: flags.encoder, classes: flags.classes, threads, warmup: 1, iters: flags.iters };
      const specs: BenchSpec[] = [
        ...flags.batch.split(',').map((b) => ({ ...base, phase: 'predict' as const, batch: Number(b), size: flags.size })),
        { ...base, phase: 'train', batch: flags.trainBatch, size: flags.trainSize },
      ];
      const rows: BenchRow[] = [];
      // A mode that fails (an op the host's libtorch lacks in bfloat16, say) is reported, not fatal.
      const failed: Record<string, string> = {};
      let source = '';
      for (const spec of specs) {
        const workload = `${spec.phase === 'predict' ? 'predict' : 'Adam train step'} ${spec.batch}x3x${spec.size}x${spec.size}`;
        const samples: Record<string, number[]> = {};
        const rss: Record<string, number> = {};
        for (let round = 0; round < flags.rounds; round++) {
          // The side that goes first flips every round: the machine's drift falls on both.
          const order = round % 2 ? [...modes].reverse() : modes;
          for (const mode of order) {
            if (mode.phases && !mode.phases.includes(spec.phase)) continue;
            const key = `${mode.side} ${mode.name}`;
            if (failed[`${workload}: ${key}`]) continue;
            let r: ReturnType<typeof runOne>;
            try {
              r = runOne(mode, { ...spec, ...mode.spec }, flags.python);
              if (r.error) throw new Error(r.error);
            } catch (e) {
              const lines = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => /error/i.test(l));
              failed[`${workload}: ${key}`] = (lines.at(-1) ?? String(e)).trim();
              continue;
            }
            if (r.source) source = r.source;
            (samples[key] ??= []).push(median(r.ms));
            rss[key] = Math.max(rss[key] ?? 0, r.maxRssMb);
          }
        }
        rows.push({ workload, ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])), rssMb: rss });
        if (!flags.json) say(`${workload}: done`);
      }
      const names = modes.map((m) => `${m.side} ${m.name}`);
      if (flags.json) {
        console.log(
          JSON.stringify({ model: flags.model, encoder: flags.encoder, threads, pytorch: source || null, rows, failed }, null, 2),
        );
        return;
      }
      say(
        `\n${flags.model} / ${flags.encoder}, ${threads} threads; libtorch ${info.libtorch}, ${info.cpuCapability}${info.bf16 ? ', bf16' : ''}`,
      );
      if (source) say(`PyTorch: ${source}; tuned: GLIBC_TUNABLES=${GLIBC_TUNED}`);
      say(
        `median over ${flags.rounds} rounds of fresh processes; ms (lower is better); ratios = PyTorch ms / segkit ms (above 1: segkit is faster); best = segkit's fastest float32 mode; bf16 = bfloat16 autocast\n`,
      );
      for (const l of benchLines(rows, names)) say(l);
      for (const [what, why] of Object.entries(failed)) say(`failed, left out: ${what}: ${why}`);
    });
}
