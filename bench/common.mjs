// Shared helpers for the benches: machine info, timing, the PyTorch side, result lines for run.mjs.
import { spawnSync } from 'node:child_process';
import { cpus, availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { torch } from '../dist/index.js';

/** Debian's python3-torch lives under the system interpreter, not a pyenv `python3`. */
export const PYTHON = process.env.SEGKIT_BENCH_PYTHON ?? '/usr/bin/python3';

export function printMachine(title) {
  const b = torch.buildInfo();
  console.log(`== ${title} ==`);
  console.log(`segkit: libtorch ${b.libtorch}, threads ${b.threads}, cpuCapability ${b.cpuCapability}, blas ${b.blas}, mkldnn ${b.mkldnn}`);
  console.log(`host:   ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, node ${process.version}`);
}

export function nowNs() {
  return Number(process.hrtime.bigint());
}

/** Runs bench/<script> with /usr/bin/python3 and returns the JSON it prints last. */
export function runPython(script, args) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const r = spawnSync(PYTHON, [file, ...args.map(String)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} ${script} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export function printPythonInfo(info) {
  console.log(`torch:  ${info.version}, cpuCapability ${info.cpuCapability}, blas ${info.blas}, python ${info.python}`);
}

/** A table; the first `left` columns are left-aligned, the others right-aligned. */
export function printTable(header, rows, left = 1) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i < left ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(cells[0]));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** One machine-readable line per result, collected by run.mjs into its summary. */
export function report(bench, metric, value, goal, ok) {
  console.log(`@@result ${JSON.stringify({ bench, metric, value, goal, ok })}`);
}
