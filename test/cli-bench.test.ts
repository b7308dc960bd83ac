// `segkit bench` as a user runs it (the built CLI in a child process), and its table's arithmetic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { benchLines, type BenchRow } from '../src/cli/bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

test('the table: medians as given, ratios PyTorch / segkit, best = the fastest float32 segkit mode', () => {
  const modes = ['pytorch default', 'segkit default', 'segkit optimized', 'pytorch glibc tuned', 'segkit bf16', 'pytorch glibc tuned bf16'];
  const rows: BenchRow[] = [
    {
      workload: 'predict 1x3x512x512',
      ms: {
        'pytorch default': 600,
        'segkit default': 300,
        'segkit optimized': 200,
        'pytorch glibc tuned': 250,
        'segkit bf16': 100,
        'pytorch glibc tuned bf16': 150,
      },
      rssMb: { 'pytorch default': 700, 'segkit default': 650 },
    },
    { workload: 'Adam train step 4x3x256x256', ms: { 'pytorch default': 1000, 'segkit default': 800 }, rssMb: {} },
  ];
  const lines = benchLines(rows, modes);
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const head = cells(lines[0]!);
  assert.deepEqual(head.slice(-5), ['default vs PyTorch', 'best vs PyTorch', 'best vs tuned', 'bf16 vs tuned', 'bf16 vs tuned bf16']);
  assert.deepEqual(cells(lines[2]!).slice(-5), ['2.00x', '3.00x', '1.25x', '2.50x', '1.50x']);
  assert.deepEqual(cells(lines[3]!).slice(1, 3), ['1000', '800']);
  assert.deepEqual(cells(lines[3]!).slice(-5), ['1.25x', '1.25x', '-', '-', '-']);
  const rss = lines.slice(lines.findIndex((l) => l.startsWith('peak RSS')) + 1);
  assert.deepEqual(cells(rss[2]!).slice(0, 3), ['predict 1x3x512x512', '700', '650']);
});

test('segkit bench runs every segkit mode in fresh processes and reports times and peak RSS', () => {
  const args = ['--model', 'unet', '--encoder', 'resnet18', '--batch', '1', '--size', '64', '--train-batch', '2', '--train-size', '64'];
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', ...args, '--rounds', '1', '--iters', '1', '--threads', '1', '--no-torch', '--no-bf16', '--json'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; threads: number; pytorch: null; rows: BenchRow[] };
  assert.equal(out.model, 'unet');
  assert.equal(out.threads, 1);
  assert.equal(out.pytorch, null);
  assert.deepEqual(
    out.rows.map((w) => [w.workload, Object.keys(w.ms).sort()]),
    [
      ['predict 1x3x64x64', ['segkit default', 'segkit no cache', 'segkit optimized', 'segkit optimized channels_last']],
      ['Adam train step 2x3x64x64', ['segkit default', 'segkit fused adam', 'segkit no cache']],
    ],
  );
  for (const w of out.rows) {
    for (const v of Object.values(w.ms)) assert.ok(v > 0 && v < 60_000, `${w.workload}: ${v} ms`);
    for (const v of Object.values(w.rssMb)) assert.ok(v > 50 && v < 8000, `${w.workload}: ${v} MB`);
  }

  const bad = spawnSync(process.execPath, [CLI, 'bench', '--model', 'unett', '--no-torch'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--model: expected one of .*unet.*, got "unett"/);
  const badBatch = spawnSync(process.execPath, [CLI, 'bench', '--batch', '1,x'], { encoding: 'utf8' });
  assert.notEqual(badBatch.status, 0);
  assert.match(badBatch.stderr, /expected positive integers separated by commas, like "1,4", got "1,x"/);
});
