// Shared helpers for the benches: machine info, timing, the PyTorch side, result lines for run.mjs.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
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

/**
 * Starts bench/<script> under /usr/bin/python3 as a worker that reads one request per line on
 * stdin and answers one JSON line; `ask` sends a request and waits for the answer. Keeping one
 * process lets the two sides alternate in short turns while the other one sits idle.
 */
export function startPython(script) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(PYTHON, [file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    async ask(...args) {
      child.stdin.write(`${args.join(' ')}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error(`${PYTHON} ${script} exited (${await exited}) without answering '${args.join(' ')}'`);
      return JSON.parse(value);
    },
    close() {
      child.stdin.end();
      return exited;
    },
  };
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
