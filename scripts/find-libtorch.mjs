#!/usr/bin/env node
// Locates libtorch for the native build: LIBTORCH, then a python torch install, then Debian's
// layout. Prints one field for binding.gyp (`--include`, `--libdir`, `--abi`) or, with no
// flag, the whole result as JSON. Fails with one actionable message when nothing is found.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? '';

function fromRoot(root, source) {
  const inc = join(root, 'include');
  const lib = join(root, 'lib');
  if (!existsSync(join(inc, 'ATen', 'ATen.h'))) return null;
  if (!['libtorch.so', 'libtorch_cpu.so', 'libtorch.dylib'].some((f) => existsSync(join(lib, f)))) return null;
  return { source, include: [inc, join(inc, 'torch', 'csrc', 'api', 'include')], libdir: lib, abi: guessAbi(lib), cuda: hasCuda(lib) };
}

// A CUDA build of libtorch registers its CUDA kernels from libtorch_cuda.so, which nothing in
// the addon references by symbol: without --no-as-needed the linker drops it and at::hasCUDA()
// is false even on a GPU machine.
function hasCuda(libdir) {
  return existsSync(join(libdir, 'libtorch_cuda.so')) && existsSync(join(libdir, 'libc10_cuda.so'));
}

export function cudaLinkFlags(found) {
  return found.cuda ? ['-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed'] : [];
}

// pip wheels before 2.x were built with the old C++ ABI; mixing ABIs gives undefined symbols.
function guessAbi(libdir) {
  try {
    const out = execFileSync('nm', ['-D', '--defined-only', join(libdir, 'libc10.so')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return out.includes('__cxx11') ? 1 : 0;
  } catch {
    return 1;
  }
}

function fromPython() {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    try {
      const dir = execFileSync(py, ['-c', 'import torch, os; print(os.path.dirname(torch.__file__))'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 60000,
      }).trim();
      const found = dir && fromRoot(dir, `python torch at ${dir}`);
      if (found) return found;
    } catch {
      /* no torch for this interpreter */
    }
  }
  return null;
}

function fromDebian() {
  const inc = '/usr/include';
  const lib = join('/usr/lib', MULTIARCH);
  if (!existsSync(join(inc, 'ATen', 'ATen.h')) || !existsSync(join(lib, 'libtorch.so'))) return null;
  return {
    source: 'system (Debian libtorch-dev)',
    include: [inc, join(inc, 'torch', 'csrc', 'api', 'include')],
    libdir: lib,
    abi: 1,
    cuda: hasCuda(lib),
  };
}

export function findLibtorch() {
  if (process.env.LIBTORCH) {
    const found = fromRoot(process.env.LIBTORCH, `LIBTORCH=${process.env.LIBTORCH}`);
    if (!found) {
      throw new Error(
        `LIBTORCH=${process.env.LIBTORCH} does not look like libtorch: expected include/ATen/ATen.h and lib/libtorch.so under it`,
      );
    }
    return found;
  }
  return fromPython() ?? fromDebian();
}

// oneDNN's own headers and library (Debian libdnnl-dev), for segkit's Winograd convolution
// (native/dnnl_conv.cc). libtorch links oneDNN but does not ship its headers; without them the
// addon builds without that op and convolutions stay libtorch's.
export function findDnnl() {
  const inc = process.env.DNNL_ROOT ? join(process.env.DNNL_ROOT, 'include') : '/usr/include';
  const lib = process.env.DNNL_ROOT ? join(process.env.DNNL_ROOT, 'lib') : join('/usr/lib', MULTIARCH);
  if (!existsSync(join(inc, 'dnnl.hpp')) || !existsSync(join(lib, 'libdnnl.so'))) return null;
  return { include: inc, libdir: lib };
}

export function libtorchVersion(found) {
  for (const dir of found.include) {
    const f = join(dir, 'torch', 'version.h');
    if (existsSync(f)) {
      const m = /TORCH_VERSION_MAJOR (\d+)[\s\S]*TORCH_VERSION_MINOR (\d+)/.exec(readFileSync(f, 'utf8'));
      if (m) return `${m[1]}.${m[2]}`;
    }
  }
  return 'unknown';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = findLibtorch();
  if (!found) {
    console.error(
      'segkit: libtorch not found. Install it (Debian/Ubuntu: apt-get install libtorch-dev),\n' +
        'or point LIBTORCH at an unpacked libtorch folder, or pip-install torch for python3.',
    );
    process.exit(1);
  }
  const flag = process.argv[2];
  if (flag === '--include') console.log(found.include.join(' '));
  else if (flag === '--libdir') console.log(found.libdir);
  else if (flag === '--abi') console.log(found.abi);
  else if (flag === '--cuda-libs') console.log(cudaLinkFlags(found).join(' '));
  else if (flag === '--dnnl-define') console.log(findDnnl() ? 1 : 0);
  else if (flag === '--dnnl-libs') {
    const d = findDnnl();
    console.log(d ? `-L${d.libdir} -Wl,-rpath,${d.libdir} -ldnnl` : '');
  } else if (flag === '--dnnl-include') console.log(findDnnl()?.include ?? '');
  else console.log(JSON.stringify({ ...found, version: libtorchVersion(found), dnnl: findDnnl() }, null, 2));
}
