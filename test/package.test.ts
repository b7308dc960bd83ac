// What a user of the compiled package gets: plain `node` imports it, and the CLI runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

test('dist/ is built (npm test compiles first)', () => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js missing: run `npm run build`');
  assert.ok(existsSync(join(root, 'dist', 'index.d.ts')), 'type declarations missing');
});

test('plain node imports segkit and segkit/torch by package name', () => {
  const out = run([
    '--input-type=module',
    '-e',
    `
    import { torch } from 'segkit';
    import { torch as t2, F } from 'segkit/torch';
    const a = torch.tensor([1, 2, 3]);
    const b = t2.add(a, 1);
    console.log(JSON.stringify([Array.from(b.toArray()), typeof F.conv2d, torch === t2]));
    torch.dispose([a, b]);
  `,
  ]);
  assert.deepEqual(JSON.parse(out), [[2, 3, 4], 'function', true]);
});

test('segkit info prints the libtorch version, build, threads and CPU features', () => {
  const out = run(['dist/cli/main.js', 'info']);
  assert.match(out, /libtorch\s+\d+\.\d+/);
  assert.match(out, /cuda\s+(no|yes)/);
  assert.match(out, /threads\s+\d+/);
  assert.match(out, /bf16\s+(yes|no)/);
  assert.match(out, /avx512\s+(yes|no)/);
  const json = JSON.parse(run(['dist/cli/main.js', 'info', '--json']));
  assert.equal(typeof json.libtorch, 'string');
  assert.equal(typeof json.threads, 'number');
});

test('the CLI rejects a bad option with a clear message', () => {
  assert.throws(
    () => execFileSync(process.execPath, ['dist/cli/main.js', 'demo', '--epochs', 'zero'], { cwd: root, encoding: 'utf8', stdio: 'pipe' }),
    (e: { stderr: string }) => /expected a positive integer, got "zero"/.test(e.stderr),
  );
});

test('a missing libtorch stops the build with one message naming the package', () => {
  const r = spawnSync(process.execPath, ['scripts/build-native.mjs'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LIBTORCH: '/nonexistent/libtorch' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /LIBTORCH=\/nonexistent\/libtorch does not look like libtorch/);
  const found = spawnSync(process.execPath, ['scripts/find-libtorch.mjs'], { cwd: root, encoding: 'utf8' });
  assert.equal(found.status, 0);
  assert.ok(JSON.parse(found.stdout).include.length > 0);
});
