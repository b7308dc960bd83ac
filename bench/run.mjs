// Runs every bench (or the one named, or those whose name contains the filter), each in its own process,
// then prints one summary table. Usage: node bench/run.mjs [filter]   (npm run bench [-- filter])
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable } from './common.mjs';

// conv-tuned: glibc keeps freed large blocks instead of unmapping them, on both sides. That
// removes ~9000 page faults per conv step, the main source of run-to-run noise here, so the
// ratio isolates segkit's own overhead; plain conv is what users get by default.
const TUNED = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456';
const BENCHES = ['overhead', 'conv', 'conv-tuned', 'rss', 'train-step', 'train-step-tuned', 'models', 'fidelity', 'train'];
const FILES = { 'conv-tuned': 'conv', 'train-step-tuned': 'train-step' };
const ENV = {
  'conv-tuned': { GLIBC_TUNABLES: TUNED, SEGKIT_BENCH_LABEL: 'malloc tuned' },
  'train-step-tuned': { GLIBC_TUNABLES: TUNED, SEGKIT_BENCH_LABEL: 'malloc tuned' },
};
const filter = process.argv[2] ?? '';
// A bench's exact name runs it alone ('train' is not also 'train-step'); otherwise a substring picks.
const selected = BENCHES.includes(filter) ? [filter] : BENCHES.filter((b) => b.includes(filter));
if (selected.length === 0) {
  console.error(`no bench matches '${filter}' (benches: ${BENCHES.join(', ')})`);
  process.exit(2);
}

const results = [];
let failed = false;
for (const name of selected) {
  const file = fileURLToPath(new URL(`${FILES[name] ?? name}.mjs`, import.meta.url));
  const t0 = Date.now();
  const env = { ...process.env, ...(ENV[name] ?? {}) };
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('@@result ')) results.push(JSON.parse(line.slice(9)));
    else if (line) console.log(line);
  }
  console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  if (r.status !== 0) {
    failed = true;
    results.push({ bench: name, metric: 'exit status', value: String(r.status ?? r.signal), goal: '0', ok: false });
  }
}

console.log('== summary ==');
printTable(
  ['bench', 'metric', 'result', 'goal', 'met'],
  results.map((r) => [r.bench, r.metric, r.value, r.goal, r.ok ? 'yes' : 'NO']),
  5,
);
process.exitCode = failed ? 1 : 0;
