/**
 * Restricted unpickler for PyTorch checkpoints. It interprets the binary opcodes of pickle
 * protocols 2-5 but can only name the globals in pickle-python.ts's ALLOWED; any other global
 * (os.system, builtins.eval, numpy, user classes, ...) is refused at the GLOBAL opcode, before
 * anything could use it. Nothing is ever executed: "calling" an allowed global runs a fixed JS
 * handler.
 *
 * Value mapping: None → null, bool → boolean, int → number (bigint outside ±2^53), float →
 * number, str → string, bytes → Uint8Array, list/tuple → array, dict/OrderedDict → plain
 * object. Dict keys must be str or numbers; numbers are stringified (so JS orders integer-like
 * keys numerically, e.g. optimizer state `{0: ..., 1: ...}`). Tensors become whatever the
 * caller's rebuildTensor hook returns; storages whatever persistentLoad returns.
 */
import { setOwn } from './raw.js';
import { ALLOWED, PyGlobal, decodeLong, storageDType, typeName } from './pickle-python.js';

export { PyGlobal, storageDType } from './pickle-python.js';

export interface RebuildTensorArgs {
  storage: unknown;
  storageOffset: number;
  size: number[];
  stride: number[];
}

export interface UnpickleOptions {
  /** Used in every error message. */
  fileName: string;
  /** Byte offset where the pickle starts (legacy .pth files hold several pickles back to back). */
  start?: number;
  /** Resolves BINPERSID ids; without it a persistent id is an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Builds a tensor from torch._utils._rebuild_tensor(_v2) arguments; must return an object. */
  rebuildTensor?: (args: RebuildTensorArgs) => object;
}

const MAX_PROTOCOL = 5;

/** Unpickles one pickle starting at `opts.start`; `end` is the offset just past its STOP opcode. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): { value: unknown; end: number } {
  const file = opts.fileName;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8');
  let pos = opts.start ?? 0;
  let opPos = pos;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  // Identity sets distinguish mutable containers and tensors from look-alike tuples/arrays.
  const dicts = new WeakSet<object>();
  const lists = new WeakSet<object>();
  const tensors = new WeakSet<object>();

  // Explicitly typed so TypeScript narrows after `if (...) fail(...)`.
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`${file}: malformed pickle at byte ${opPos}: ${msg}`);
  };
  const take = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) {
      fail(`needs ${n} more bytes but only ${bytes.length - pos} remain (truncated file?)`);
    }
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = (): number => bytes[take(1)];
  const u32 = (): number => view.getUint32(take(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(take(8), true);
    return v > BigInt(bytes.length) ? fail(`length ${v} exceeds the file size`) : Number(v);
  };
  // A copy, as a plain Uint8Array even when `bytes` is a Buffer (whose slice() would alias).
  const blob = (n: number): Uint8Array => new Uint8Array(bytes.subarray(take(n), pos));
  const str = (n: number): string => utf8.decode(bytes.subarray(take(n), pos));
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('unterminated text line (truncated file?)');
    return str(nl - pos + 1).slice(0, -1);
  };
  const pop = (): unknown => (stack.length > 0 ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length > 0 ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const items = stack;
    stack = metastack.pop() ?? fail('no MARK on the stack');
    return items;
  };
  const memoGet = (i: number): unknown => (memo.has(i) ? memo.get(i) : fail(`memo key ${i} was never stored`));

  const newDict = (): Record<string, unknown> => {
    const d: Record<string, unknown> = {};
    dicts.add(d);
    return d;
  };
  const newList = (items: unknown[]): unknown[] => {
    lists.add(items);
    return items;
  };
  const setItem = (d: unknown, key: unknown, value: unknown): void => {
    if (typeof d !== 'object' || d === null || !dicts.has(d)) fail(`SETITEM target is ${typeName(d)}, expected a dict`);
    let k: string;
    if (typeof key === 'string') k = key;
    else if ((typeof key === 'number' && Number.isFinite(key)) || typeof key === 'bigint') k = String(key);
    else return fail(`dict key of type ${typeName(key)} is not supported (expected str or int)`);
    setOwn(d as Record<string, unknown>, k, value);
  };
  const appendTo = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || !lists.has(l)) fail(`APPEND target is ${typeName(l)}, expected a list`);
    for (const item of items) (l as unknown[]).push(item);
  };
  const int = (v: unknown, what: string): number =>
    typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(`${what} is ${typeName(v)} ${String(v)}, expected an int`);
  const intList = (v: unknown, what: string): number[] =>
    Array.isArray(v) ? v.map((x, i) => int(x, `${what}[${i}]`)) : fail(`${what} is ${typeName(v)}, expected a tuple of ints`);

  const call = (func: unknown, args: unknown): unknown => {
    if (!(func instanceof PyGlobal)) return fail(`cannot call ${typeName(func)}`);
    if (!Array.isArray(args)) return fail(`arguments to ${func.qualifiedName} are ${typeName(args)}, expected a tuple`);
    const handler = ALLOWED.get(func.qualifiedName);
    switch (handler) {
      case 'OrderedDict': {
        const d = newDict();
        if (args.length > 1) fail(`collections.OrderedDict takes at most 1 argument, got ${args.length}`);
        for (const pair of args.length === 1 ? intoArray(args[0], 'OrderedDict items') : []) {
          if (!Array.isArray(pair) || pair.length !== 2) fail('OrderedDict items must be (key, value) pairs');
          setItem(d, (pair as unknown[])[0], (pair as unknown[])[1]);
        }
        return d;
      }
      case 'rebuild_tensor': {
        // v1: (storage, offset, size, stride); v2 adds requires_grad, backward_hooks[, metadata].
        if (args.length < 4) fail(`${func.qualifiedName} needs at least 4 arguments, got ${args.length}`);
        if (opts.rebuildTensor === undefined) return fail('tensors are not supported in this pickle');
        const t = opts.rebuildTensor({
          storage: args[0],
          storageOffset: int(args[1], 'storage offset'),
          size: intList(args[2], 'size'),
          stride: intList(args[3], 'stride'),
        });
        tensors.add(t);
        return t;
      }
      case 'rebuild_parameter': {
        // (data, requires_grad, backward_hooks[, state]): a Parameter is loaded as its data tensor.
        const data = args[0];
        if (typeof data !== 'object' || data === null || !tensors.has(data))
          fail(`${func.qualifiedName} expects a tensor, got ${typeName(data)}`);
        return data;
      }
      case 'rebuild_from_type': {
        // (func, new_type, args, state): only plain Tensor/Parameter subclasses; the state is dropped.
        const [inner, newType, innerArgs] = args;
        // Only one level: a nested _rebuild_from_type_v2 would let a file drive our recursion depth.
        const innerHandler = inner instanceof PyGlobal ? ALLOWED.get(inner.qualifiedName) : undefined;
        if (innerHandler !== 'rebuild_tensor' && innerHandler !== 'rebuild_parameter') {
          fail(`_rebuild_from_type_v2 wraps ${typeName(inner)}, expected a tensor rebuild function`);
        }
        const typeOk = newType instanceof PyGlobal && ALLOWED.get(newType.qualifiedName) === 'marker' && !storageDType(newType);
        if (!typeOk) fail(`_rebuild_from_type_v2 with type ${typeName(newType)} is not supported (expected torch.Tensor or Parameter)`);
        return call(inner, innerArgs);
      }
      default:
        return fail(`global ${func.qualifiedName} cannot be called`);
    }
  };
  const intoArray = (v: unknown, what: string): unknown[] => (Array.isArray(v) ? v : fail(`${what} is ${typeName(v)}, expected a list`));

  const global = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED.has(qualified)) {
      throw new Error(`${file}: refusing to load global "${qualified}": only PyTorch state-dict types are allowed`);
    }
    return new PyGlobal(module, name);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const v = u8();
        if (v > MAX_PROTOCOL) fail(`unsupported pickle protocol ${v} (expected 2 to ${MAX_PROTOCOL})`);
        break;
      }
      case 0x95:
        u64();
        break; // FRAME: only a read-ahead hint
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28:
        metastack.push(stack);
        stack = [];
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4a:
        stack.push(view.getInt32(take(4), true));
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(view.getUint16(take(2), true));
        break; // BININT2
      case 0x8a:
        stack.push(decodeLong(bytes.subarray(take(u8()), pos)));
        break; // LONG1
      case 0x8b: {
        // LONG4
        // Decoding is quadratic in length; nothing a checkpoint holds needs more than LONG1's 255 bytes.
        const n = view.getInt32(take(4), true);
        if (n > 1024) fail(`integer of ${n} bytes is too large`);
        stack.push(decodeLong(bytes.subarray(take(n), pos)));
        break;
      }
      case 0x47:
        stack.push(view.getFloat64(take(8), false));
        break; // BINFLOAT (big-endian)
      case 0x58:
        stack.push(str(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(str(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(str(u64()));
        break; // BINUNICODE8
      // Python 2 str; torch.load decodes these as UTF-8 too.
      case 0x54:
        stack.push(str(view.getInt32(take(4), true)));
        break; // BINSTRING
      case 0x55:
        stack.push(str(u8()));
        break; // SHORT_BINSTRING
      case 0x42:
        stack.push(blob(u32()));
        break; // BINBYTES
      case 0x43:
        stack.push(blob(u8()));
        break; // SHORT_BINBYTES
      case 0x8e:
        stack.push(blob(u64()));
        break; // BINBYTES8
      case 0x96:
        stack.push(blob(u64()));
        break; // BYTEARRAY8
      case 0x7d:
        stack.push(newDict());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push(newList([]));
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      } // TUPLE3
      // popMark() swaps `stack`, so it must run before `stack.push` is looked up.
      case 0x74: {
        const items = popMark();
        stack.push(items);
        break;
      } // TUPLE
      case 0x6c: {
        const items = popMark();
        stack.push(newList(items));
        break;
      } // LIST
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2 !== 0) fail('DICT needs key/value pairs');
        const d = newDict();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: {
        const v = pop();
        appendTo(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        appendTo(top(), items);
        break;
      } // APPENDS
      case 0x73: {
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS needs key/value pairs');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        stack.push(memoGet(u8()));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(u32()));
        break; // LONG_BINGET
      case 0x63: {
        const module = line();
        stack.push(global(module, line()));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        stack.push(call(pop(), args));
        break;
      } // REDUCE
      case 0x81: // NEWOBJ: cls.__new__(cls, *args)
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        if (op === 0x92) pop();
        pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || ALLOWED.get(cls.qualifiedName) !== 'OrderedDict') {
          fail(`cannot instantiate ${typeName(cls)}`);
        }
        stack.push(newDict());
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        // torch stores `_metadata` as an attribute of a state dict: harmless, dropped.
        const ok = typeof target === 'object' && target !== null && (dicts.has(target) || tensors.has(target));
        if (!ok) fail(`cannot apply state (${typeName(state)}) to ${typeName(target)}`);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (opts.persistentLoad === undefined) fail('persistent ids are not supported in this pickle');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}`);
    }
  }
}
