/**
 * Minimal in-memory ZIP reader: enough for torch.save archives (stored entries, ZIP64 when
 * large) plus deflate for archives repacked by other tools. Only the central directory is
 * trusted for sizes; local headers are read just to find where each entry's data starts.
 */
import * as zlib from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /**
   * Uncompressed bytes, read on first call and cached. Stored entries are zero-copy views
   * into the archive bytes. The CRC is verified when the runtime provides zlib.crc32.
   */
  data(): Uint8Array;
}

export interface ZipArchive {
  fileName: string;
  /** Entries in central-directory order. */
  entries: ZipEntry[];
  get(name: string): ZipEntry | undefined;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;

/** True when the bytes start like a ZIP archive (a local file header or an empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
  return sig >>> 0 === SIG_LOCAL || sig >>> 0 === SIG_EOCD;
}

type Crc32Fn = (data: Uint8Array) => number;
// zlib.crc32 exists from Node 20.15 / 22.2; older runtimes skip verification.
const crc32: Crc32Fn | undefined = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fileName: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(msg: string): never {
    throw new Error(`${this.fileName}: ${msg}`);
  }
  need(pos: number, len: number, what: string): void {
    if (pos < 0 || pos + len > this.bytes.length) {
      this.fail(`${what} at byte ${pos} needs ${len} bytes but the file is ${this.bytes.length} bytes (truncated archive?)`);
    }
  }
  u16(pos: number): number {
    return this.view.getUint16(pos, true);
  }
  u32(pos: number): number {
    return this.view.getUint32(pos, true);
  }
  u64(pos: number, what: string): number {
    const v = this.view.getBigUint64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, beyond what this reader supports`);
    return Number(v);
  }
}

function findEocd(r: Reader): number {
  const min = Math.max(0, r.bytes.length - EOCD_SIZE - 0xffff);
  for (let pos = r.bytes.length - EOCD_SIZE; pos >= min; pos--) {
    // The comment-length check avoids mistaking a signature inside the comment for the record.
    if (r.u32(pos) === SIG_EOCD && pos + EOCD_SIZE + r.u16(pos + 20) <= r.bytes.length) return pos;
  }
  return r.fail(`no ZIP end-of-central-directory record found in ${r.bytes.length} bytes (truncated or not a ZIP file)`);
}

interface Directory {
  count: number;
  offset: number;
  size: number;
}

function readDirectory(r: Reader): Directory {
  const eocd = findEocd(r);
  let count = r.u16(eocd + 10);
  let size = r.u32(eocd + 12);
  let offset = r.u32(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc) !== SIG_ZIP64_LOCATOR) r.fail('ZIP end record asks for ZIP64 but the ZIP64 locator is missing');
    const z = r.u64(loc + 8, 'ZIP64 end record offset');
    r.need(z, 56, 'ZIP64 end record');
    if (r.u32(z) !== SIG_ZIP64_EOCD) r.fail(`expected the ZIP64 end record signature at byte ${z}`);
    count = r.u64(z + 32, 'ZIP64 entry count');
    size = r.u64(z + 40, 'ZIP64 central directory size');
    offset = r.u64(z + 48, 'ZIP64 central directory offset');
  }
  if (offset + size > eocd) {
    r.fail(`central directory [${offset}, ${offset + size}) extends past its end record at byte ${eocd} (truncated archive?)`);
  }
  // Each record takes at least 46 bytes, so a corrupt count cannot make us loop for long.
  if (count * 46 > size) r.fail(`central directory claims ${count} entries but is only ${size} bytes`);
  return { count, offset, size };
}

function makeEntry(
  r: Reader,
  name: string,
  method: number,
  flags: number,
  crc: number,
  compressedSize: number,
  size: number,
  localOffset: number,
): ZipEntry {
  let cached: Uint8Array | undefined;
  const load = (): Uint8Array => {
    r.need(localOffset, 30, `local header of "${name}"`);
    if (r.u32(localOffset) !== SIG_LOCAL) r.fail(`entry "${name}": expected a local file header at byte ${localOffset}`);
    const start = localOffset + 30 + r.u16(localOffset + 26) + r.u16(localOffset + 28);
    r.need(start, compressedSize, `data of entry "${name}"`);
    // A plain Uint8Array view even when the input is a Buffer, so callers see one type.
    const raw = new Uint8Array(r.bytes.buffer, r.bytes.byteOffset + start, compressedSize);
    let out: Uint8Array;
    if (method === 0) {
      if (compressedSize !== size) r.fail(`stored entry "${name}" has compressed size ${compressedSize} but size ${size}`);
      out = raw;
    } else if (size === 0) {
      out = new Uint8Array(0);
    } else {
      if (size > bufferConstants.MAX_LENGTH) r.fail(`entry "${name}" inflates to ${size} bytes, more than a Buffer can hold`);
      let inflated: Buffer;
      try {
        // maxOutputLength bounds the allocation by the declared size, which defuses zip bombs.
        inflated = zlib.inflateRawSync(raw, { maxOutputLength: size });
      } catch (e) {
        return r.fail(`entry "${name}" could not be inflated: ${(e as Error).message}`);
      }
      if (inflated.length !== size) r.fail(`entry "${name}" inflated to ${inflated.length} bytes, expected ${size}`);
      out = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
    }
    if (crc32 !== undefined && crc32(out) >>> 0 !== crc) {
      r.fail(
        `entry "${name}" fails its CRC-32 check (expected ${crc.toString(16)}, got ${(crc32(out) >>> 0).toString(16)}): corrupt archive`,
      );
    }
    return out;
  };
  return {
    name,
    method,
    compressedSize,
    size,
    crc32: crc,
    data() {
      if (flags & 1) r.fail(`entry "${name}" is encrypted`);
      if (method !== 0 && method !== 8)
        r.fail(`entry "${name}" uses compression method ${method}; only 0 (stored) and 8 (deflate) are supported`);
      cached ??= load();
      return cached;
    },
  };
}

/** Parses the central directory of an in-memory ZIP archive. Entry data is read lazily. */
export function readZip(bytes: Uint8Array, fileName: string): ZipArchive {
  const r = new Reader(bytes, fileName);
  const dir = readDirectory(r);
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  const names = new TextDecoder('utf-8');
  let pos = dir.offset;
  const end = dir.offset + dir.size;
  for (let i = 0; i < dir.count; i++) {
    if (pos + 46 > end) r.fail(`central directory ends after ${i} of ${dir.count} entries`);
    if (r.u32(pos) !== SIG_CENTRAL) r.fail(`expected central directory entry ${i} at byte ${pos}`);
    const flags = r.u16(pos + 8);
    const method = r.u16(pos + 10);
    const crc = r.u32(pos + 16);
    let compressedSize = r.u32(pos + 20);
    let size = r.u32(pos + 24);
    const nameLen = r.u16(pos + 28);
    const extraLen = r.u16(pos + 30);
    const commentLen = r.u16(pos + 32);
    let localOffset = r.u32(pos + 42);
    const next = pos + 46 + nameLen + extraLen + commentLen;
    if (next > end) r.fail(`central directory entry ${i} runs past the end of the directory`);
    const name = names.decode(bytes.subarray(pos + 46, pos + 46 + nameLen));

    // ZIP64 extra field: only the fields saturated in the fixed record are present, in this order.
    for (let x = pos + 46 + nameLen; x + 4 <= pos + 46 + nameLen + extraLen; ) {
      const id = r.u16(x);
      const len = r.u16(x + 2);
      if (id === 0x0001) {
        let p = x + 4;
        const take = (what: string): number => {
          if (p + 8 > x + 4 + len) r.fail(`entry "${name}": ZIP64 extra field lacks the ${what}`);
          const v = r.u64(p, `entry "${name}" ${what}`);
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = take('size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localOffset === 0xffffffff) localOffset = take('local header offset');
      }
      x += 4 + len;
    }
    if (byName.has(name)) r.fail(`entry "${name}" appears twice in the archive`);
    const entry = makeEntry(r, name, method, flags, crc, compressedSize, size, localOffset);
    entries.push(entry);
    byName.set(name, entry);
    pos = next;
  }
  return { fileName, entries, get: (name) => byName.get(name) };
}
