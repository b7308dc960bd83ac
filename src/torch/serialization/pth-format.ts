/**
 * Reader for torch.save files, both the ZIP format (PyTorch >= 1.6) and the legacy
 * stream of pickles (older files, or _use_new_zipfile_serialization=False). Unpickling goes
 * through the restricted unpickler, so loading never runs code. Every tensor is returned as a
 * contiguous RawTensor copied out of its storage (views and shared storages are resolved, so
 * tensors never alias each other or the input bytes).
 */
import { type DType, type RawTensor, itemSize, numelOf } from './raw.js';
import { PyGlobal, type RebuildTensorArgs, storageDType, unpickle } from './pickle.js';
import { isZip, readZip } from './zip.js';

/** Materializing an expanded view (stride 0) may multiply its storage; beyond this it is refused. */
export const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** The bytes behind a storage key; `bytes` arrives later in the legacy format. */
interface Root {
  key: string;
  dtype: DType;
  nbytes: number;
  bytes?: Uint8Array;
}

/** A typed window on a root, as named by one persistent id. */
class Storage {
  constructor(
    readonly root: Root,
    readonly dtype: DType,
    readonly byteOffset: number,
    readonly numel: number,
  ) {}
}

interface Pending {
  tensor: RawTensor;
  args: RebuildTensorArgs;
  storage: Storage;
}

/**
 * Decodes a torch.save file into plain JS (see pickle.ts for the value mapping) with every
 * tensor replaced by a RawTensor. Throws an Error naming `fileName` for anything malformed,
 * truncated, big-endian, or referencing globals outside the state-dict allowlist.
 */
export function decodePth(bytes: Uint8Array, fileName: string): unknown {
  if (isZip(bytes)) return decodeZip(bytes, fileName);
  if (bytes.length >= 2 && bytes[0] === 0x80) return decodeLegacy(bytes, fileName);
  if (bytes.length >= 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new Error(`${fileName}: tar-based checkpoints (PyTorch < 0.1.10) are not supported; re-save with a newer PyTorch`);
  }
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(
    `${fileName}: not a PyTorch checkpoint: expected a ZIP archive (50 4b 03 04) or a pickle (80 ..), got ${head || 'an empty file'}`,
  );
}

function describePid(pid: unknown): string {
  if (!Array.isArray(pid)) return typeof pid;
  return `(${pid.map((x) => (x instanceof PyGlobal ? x.qualifiedName : typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ')})`;
}

/** Common part of both persistent id layouts: ('storage', StorageType, key, location, numel, ...). */
function parseStoragePid(fileName: string, pid: unknown, minLength: number): { dtype: DType; key: string; numel: number } {
  if (Array.isArray(pid) && pid[0] === 'module') {
    throw new Error(
      `${fileName}: the file pickles a whole nn.Module class, which cannot be loaded safely; save model.state_dict() instead`,
    );
  }
  if (!Array.isArray(pid) || pid.length < minLength || pid[0] !== 'storage') {
    throw new Error(`${fileName}: persistent id ${describePid(pid)} is not a ('storage', type, key, location, numel) tuple`);
  }
  const dtype = storageDType(pid[1]);
  if (dtype === undefined) throw new Error(`${fileName}: unsupported storage type in persistent id ${describePid(pid)}`);
  const key = pid[2];
  const numel = pid[4];
  if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) {
    throw new Error(`${fileName}: persistent id ${describePid(pid)} needs a string key and a non-negative element count`);
  }
  return { dtype, key, numel: numel as number };
}

function tensorCollector(fileName: string, pending: Pending[]) {
  return (args: RebuildTensorArgs): object => {
    if (!(args.storage instanceof Storage)) {
      throw new Error(`${fileName}: a tensor is built from ${typeof args.storage} instead of a storage`);
    }
    const tensor: RawTensor = { dtype: args.storage.dtype, shape: [...args.size], data: new Uint8Array(0) };
    pending.push({ tensor, args, storage: args.storage });
    return tensor;
  };
}

function decodeZip(bytes: Uint8Array, fileName: string): unknown {
  const zip = readZip(bytes, fileName);
  const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkl === undefined) {
    const names = zip.entries
      .slice(0, 5)
      .map((e) => e.name)
      .join(', ');
    throw new Error(
      `${fileName}: ZIP archive has no "<archive>/data.pkl" entry, so it is not a torch.save file (entries: ${names || 'none'})`,
    );
  }
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  if (zip.get(`${prefix}constants.pkl`) !== undefined) {
    throw new Error(`${fileName}: this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint`);
  }
  const order = zip.get(`${prefix}byteorder`);
  if (order !== undefined) {
    const text = new TextDecoder().decode(order.data()).trim();
    if (text !== 'little') {
      throw new Error(
        `${fileName}: storages are stored ${text === 'big' ? 'big-endian' : `with byte order "${text}"`}; only little-endian files are supported`,
      );
    }
  }

  const roots = new Map<string, Root>();
  const pending: Pending[] = [];
  const persistentLoad = (pid: unknown): Storage => {
    const { dtype, key, numel } = parseStoragePid(fileName, pid, 5);
    let root = roots.get(key);
    if (root === undefined) {
      const entry = zip.get(`${prefix}data/${key}`);
      if (entry === undefined) throw new Error(`${fileName}: storage "${key}" is referenced but "${prefix}data/${key}" is missing`);
      const data = entry.data();
      root = { key, dtype, nbytes: data.length, bytes: data };
      roots.set(key, root);
    }
    const nbytes = numel * itemSize(dtype);
    if (nbytes !== root.nbytes) {
      throw new Error(
        `${fileName}: storage "${key}" is declared as ${numel} ${dtype} elements (${nbytes} bytes) but its data has ${root.nbytes} bytes`,
      );
    }
    return new Storage(root, dtype, 0, numel);
  };
  const { value } = unpickle(pkl.data(), { fileName, persistentLoad, rebuildTensor: tensorCollector(fileName, pending) });
  for (const p of pending) materialize(fileName, p);
  return value;
}

function decodeLegacy(bytes: Uint8Array, fileName: string): unknown {
  const step = (start: number, what: string, extra: Parameters<typeof unpickle>[1] = { fileName }) => {
    try {
      return unpickle(bytes, { ...extra, start });
    } catch (e) {
      throw new Error(`${(e as Error).message} (while reading the ${what})`);
    }
  };
  const magic = step(0, 'magic number');
  if (magic.value !== LEGACY_MAGIC) {
    throw new Error(
      `${fileName}: not a PyTorch checkpoint: legacy magic number should be 0x${LEGACY_MAGIC.toString(16)}, got ${String(magic.value)}`,
    );
  }
  const protocol = step(magic.end, 'protocol version');
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new Error(`${fileName}: legacy protocol version should be ${LEGACY_PROTOCOL}, got ${String(protocol.value)}`);
  }
  const sysInfo = step(protocol.end, 'system info');
  const little =
    typeof sysInfo.value === 'object' && sysInfo.value !== null ? (sysInfo.value as Record<string, unknown>).little_endian : undefined;
  if (little === false) throw new Error(`${fileName}: written on a big-endian machine; only little-endian files are supported`);

  const roots = new Map<string, Root & { numel: number }>();
  const pending: Pending[] = [];
  const persistentLoad = (pid: unknown): Storage => {
    const { dtype, key, numel } = parseStoragePid(fileName, pid, 6);
    const size = itemSize(dtype);
    let root = roots.get(key);
    if (root === undefined) {
      root = { key, dtype, numel, nbytes: numel * size };
      roots.set(key, root);
    } else if (numel * size !== root.nbytes) {
      throw new Error(`${fileName}: storage "${key}" is declared with ${numel * size} bytes but earlier with ${root.nbytes}`);
    }
    const view = (pid as unknown[])[5];
    if (view === null || view === undefined) return new Storage(root, dtype, 0, numel);
    // Pre-1.0 storage views: (view_key, offset, size) in elements of the root storage.
    const [, offset, viewSize] = Array.isArray(view) ? view : [];
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(viewSize) || offset < 0 || viewSize < 0 || offset + viewSize > numel) {
      throw new Error(`${fileName}: storage view ${describePid(view)} does not fit in storage "${key}" of ${numel} elements`);
    }
    return new Storage(root, dtype, offset * size, viewSize);
  };
  const obj = step(sysInfo.end, 'checkpoint object', { fileName, persistentLoad, rebuildTensor: tensorCollector(fileName, pending) });
  const keys = step(obj.end, 'storage key list');
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new Error(`${fileName}: the storage key list should be a list of strings, got ${typeof keys.value}`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const root = roots.get(key);
    if (root === undefined) throw new Error(`${fileName}: storage "${key}" has data but no tensor references it`);
    if (root.bytes !== undefined) throw new Error(`${fileName}: storage "${key}" is listed twice`);
    if (pos + 8 > bytes.length) throw new Error(`${fileName}: file ends before the size of storage "${key}" (truncated file?)`);
    const count = view.getBigInt64(pos, true);
    if (count !== BigInt(root.numel)) {
      throw new Error(`${fileName}: storage "${key}" should hold ${root.numel} ${root.dtype} elements, the file says ${count}`);
    }
    pos += 8;
    if (pos + root.nbytes > bytes.length) {
      throw new Error(`${fileName}: storage "${key}" needs ${root.nbytes} bytes but only ${bytes.length - pos} remain (truncated file?)`);
    }
    root.bytes = bytes.subarray(pos, pos + root.nbytes);
    pos += root.nbytes;
  }
  for (const root of roots.values()) {
    if (root.bytes === undefined) throw new Error(`${fileName}: storage "${root.key}" is referenced but its data is missing`);
  }
  for (const p of pending) materialize(fileName, p);
  return obj.value;
}

/** Copies the elements a (storage, offset, size, stride) view selects into a contiguous buffer. */
function materialize(fileName: string, { tensor, args, storage }: Pending): void {
  const { storageOffset: offset, size, stride } = args;
  const where = `tensor ${storage.dtype} [${size.join(', ')}] on storage "${storage.root.key}"`;
  const fail = (msg: string): never => {
    throw new Error(`${fileName}: ${where}: ${msg}`);
  };
  if (stride.length !== size.length) fail(`has ${stride.length} strides for ${size.length} dimensions`);
  if (offset < 0 || stride.some((s) => s < 0)) fail(`negative storage offset ${offset} or stride [${stride.join(', ')}]`);
  let numel = 0;
  try {
    numel = numelOf(size, 'size');
  } catch (e) {
    fail((e as Error).message);
  }
  if (numel === 0) return; // data is already the empty buffer
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (last >= storage.numel) {
    fail(`offset ${offset}, stride [${stride.join(', ')}] reaches element ${last} but the storage has ${storage.numel} elements`);
  }
  const isz = itemSize(storage.dtype);
  if (numel > storage.numel && numel * isz > MAX_EXPANDED_BYTES) {
    fail(`expanding ${storage.numel} stored elements to ${numel} would need ${numel * isz} bytes (limit ${MAX_EXPANDED_BYTES})`);
  }
  const src = storage.root.bytes!.subarray(storage.byteOffset, storage.byteOffset + storage.numel * isz);

  let contiguous = true;
  for (let d = size.length - 1, expected = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= size[d];
  }
  if (contiguous) {
    // new Uint8Array(view) copies; Buffer#slice (the input may be a Buffer) would not.
    tensor.data = new Uint8Array(src.subarray(offset * isz, (offset + numel) * isz));
    return;
  }
  const out = new Uint8Array(numel * isz);
  const nd = size.length;
  const inner = size[nd - 1];
  const innerStep = stride[nd - 1] * isz;
  const index = new Array<number>(nd).fill(0);
  let base = offset * isz;
  let o = 0;
  for (;;) {
    for (let j = 0, p = base; j < inner; j++, p += innerStep) {
      for (let b = 0; b < isz; b++) out[o++] = src[p + b];
    }
    // Odometer over the outer dimensions, moving `base` by whole strides.
    let d = nd - 2;
    for (; d >= 0; d--) {
      index[d]++;
      base += stride[d] * isz;
      if (index[d] < size[d]) break;
      base -= size[d] * stride[d] * isz;
      index[d] = 0;
    }
    if (d < 0) break;
  }
  tensor.data = out;
}
