// Every TypeScript snippet in README.md runs: each ```ts / ```typescript block is written to a
// temporary .mts file, with its imports of 'segkit' and 'segkit/torch' pointed at the source
// (src/index.ts, src/torch/index.ts), and run with `node --import tsx` from the repository root.
// A snippet that exits non-zero or leaves tensors alive fails with its README line and the
// child's stderr. Blocks that are not meant to run say so by their fence: ```sh for commands,
// ```text for output, ```yaml for run configs (each must be a valid one).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The fence languages README.md may use: ts/typescript run, the others are shown only. */
const RUN = new Set(['ts', 'typescript']);
const SHOW = new Set(['sh', 'text', 'yaml']);

interface Block {
  lang: string;
  /** 1-based README line of the opening fence. */
  line: number;
  code: string;
}

/** The fenced blocks of a Markdown text, with their language and the line of their fence. */
function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`README.md:${start + 1}: code fence never closed`);
    blocks.push({ lang: open[1]!.toLowerCase(), line: start + 1, code: lines.slice(start + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Points the package's import specifiers at its source files. */
function toSourceImports(code: string): string {
  const targets: Record<string, string> = {
    segkit: pathToFileURL(join(root, 'src', 'index.ts')).href,
    'segkit/torch': pathToFileURL(join(root, 'src', 'torch', 'index.ts')).href,
    'segkit/rle': pathToFileURL(join(root, 'src', 'rle.ts')).href,
    'segkit/geo': pathToFileURL(join(root, 'src', 'geo', 'index.ts')).href,
  };
  return code.replace(
    /(['"])(segkit(?:\/(?:torch|rle|geo))?)\1/g,
    (_whole, quote: string, name: string) => `${quote}${targets[name]}${quote}`,
  );
}

const blocks = fencedBlocks(readme);
const snippets = blocks.filter((b) => RUN.has(b.lang));
const dir = mkdtempSync(join(tmpdir(), 'segkit-readme-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('README.md fences name their language (ts runs; sh, text and yaml are shown only)', () => {
  const bad = blocks.filter((b) => !RUN.has(b.lang) && !SHOW.has(b.lang)).map((b) => `line ${b.line}: '${b.lang || '(none)'}'`);
  assert.deepEqual(bad, [], `fence languages must be one of ${[...RUN, ...SHOW].join(', ')}`);
  assert.ok(snippets.length > 0, 'README.md has no ```ts snippet');
});

test("README.md run configs (```yaml) are valid, and the first is the demo's own", async () => {
  const { parse } = await import('yaml');
  const { parseRunConfig } = await import('../src/train/config.js');
  const configs = blocks.filter((b) => b.lang === 'yaml');
  assert.ok(configs.length > 0);
  for (const b of configs) parseRunConfig(parse(b.code), `README.md:${b.line}`);
  const demo = parse(readFileSync(join(root, 'data', 'demo', 'run.yaml'), 'utf8'));
  assert.deepEqual(parseRunConfig(parse(configs[0]!.code)), parseRunConfig(demo), 'the README shows data/demo/run.yaml');
});

test('README.md snippets import the package by its name only', () => {
  for (const s of snippets) {
    for (const m of s.code.matchAll(/\bfrom\s+(['"])([^'"]+)\1/g)) {
      const spec = m[2]!;
      assert.ok(
        spec === 'segkit' || spec === 'segkit/torch' || spec.startsWith('node:'),
        `README.md:${s.line}: import from '${spec}' (snippets import 'segkit', 'segkit/torch' or node: modules)`,
      );
    }
  }
});

for (const [i, s] of snippets.entries()) {
  const firstCode = s.code.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('//') && !l.trim().startsWith('import')) ?? '';
  test(`README.md:${s.line} runs (${firstCode.trim().slice(0, 60)})`, (t) => {
    // .mts: an ES module wherever the temporary folder is (there is no package.json there).
    const file = join(dir, `snippet-${i + 1}-line-${s.line}.mts`);
    // The snippet's own statements run first; then every tensor it made must have been freed.
    const leakCheck = [
      `import { liveTensors as __liveTensors } from '${pathToFileURL(join(root, 'src', 'torch', 'index.ts')).href}';`,
      'if (__liveTensors() !== 0) {',
      "  console.error('the snippet left', __liveTensors(), 'tensor(s) alive: free them with torch.tidy or dispose');",
      '  process.exitCode = 3;',
      '}',
    ].join('\n');
    writeFileSync(file, `${toSourceImports(s.code)}\n${leakCheck}\n`);
    const started = Date.now();
    // One libtorch thread unless the caller says otherwise: the snippets are small, and on a busy
    // machine OpenMP threads that wait for each other make them many times slower.
    const env = { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`${seconds} s`);
    if (r.status !== 0) {
      const why = r.error ? String(r.error) : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
      assert.fail(
        `README.md:${s.line}: the snippet failed (${why}, ${seconds} s); snippet line k is README line ${s.line} + k\n` +
          `--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout}`,
      );
    }
  });
}
