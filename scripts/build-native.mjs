#!/usr/bin/env node
// npm install hook: builds native/ against the machine's libtorch with node-gyp, downloading
// nothing (Node's headers come from `nodedir`, see .npmrc). One clear message when libtorch
// is missing, instead of a wall of compiler errors.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibtorch, libtorchVersion } from './find-libtorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let found;
try {
  found = findLibtorch();
} catch (e) {
  console.error(`segkit: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
if (!found) {
  console.error(
    'segkit: libtorch not found. Install it first (Debian/Ubuntu: apt-get install libtorch-dev),\n' +
      'or set LIBTORCH to an unpacked libtorch folder, or pip-install torch for python3. Then run npm install again.',
  );
  process.exit(1);
}
console.log(`segkit: building against libtorch ${libtorchVersion(found)} from ${found.source}`);

const args = ['rebuild', '-j', String(Math.max(1, Number(process.env.JOBS) || 2))];
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : '');
if (nodedir) args.push(`--nodedir=${nodedir}`);
// npm sets npm_config_node_gyp in lifecycle scripts; outside npm, use the copy npm bundles.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gypJs = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : '');
const [cmd, cmdArgs] = gypJs ? [process.execPath, [gypJs, ...args]] : ['node-gyp', args];
const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`segkit: could not run node-gyp (${r.error.message}); install it with npm install -g node-gyp`);
  process.exit(1);
}
process.exit(r.status ?? 1);
