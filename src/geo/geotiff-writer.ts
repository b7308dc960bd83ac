// Writing GeoTIFFs window by window: tiled, deflate or LZW with their predictors, GeoKeys for an
// EPSG code and a GDAL-order transform, GDAL_NODATA, BigTIFF past 4 GB. A tile goes to the file as
// soon as its last pixel arrives, so memory holds only the tiles that windows have started and
// not finished (one row of tiles when windows come row by row) and the offset tables, which are
// written with the image directory at close. The file is built under a temporary name in the
// output's folder and renamed at close, so the final name never holds half a file.

import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import { geoFields } from './geokeys.js';
import {
  ARRAYS,
  describeWindow,
  encodeTile,
  type GeoTiffArray,
  type GeoTiffCompression,
  type GeoTiffDType,
  type GeoTiffWriterOptions,
  imageFields,
  missingReport,
  readPlan,
  type TilePlan,
} from './geotiff-layout.js';

export type { GeoTiffArray, GeoTiffCompression, GeoTiffDType, GeoTiffWriterOptions };
import { encodeHeader, encodeIfd } from './tiff-encode.js';

/** Options of `GeoTiffWriter.writeWindow`. */
export interface WriteWindowOptions {
  /** 'band' (default): [bands, height, width], as `Raster.readWindow` returns; 'pixel': [height, width, bands]. */
  interleave?: 'band' | 'pixel';
}

const WHERE = 'GeoTiffWriter';

/** Files being written, removed if the process exits before they are closed or aborted. */
const live = new Set<string>();
let exitHook = false;

interface OpenTile {
  data: GeoTiffArray;
  /** The rectangles written so far, [x0, y0, x1, y1] in raster pixels, to refuse writing a pixel twice. */
  rects: number[];
  remaining: number;
}

function fileError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: `its folder ${dirname(path)} does not exist`,
    ENOTDIR: `${dirname(path)} is not a folder`,
    EACCES: `its folder ${dirname(path)} is not writable`,
    EPERM: `its folder ${dirname(path)} is not writable`,
    EROFS: `its folder ${dirname(path)} is on a read-only file system`,
    ENOSPC: 'the disk is full',
  };
  return new Error(`${WHERE}: cannot write ${path}: ${why[err?.code ?? ''] ?? err?.message ?? String(e)}`, { cause: e });
}

/** A GeoTIFF being written; made by `createGeoTiff`. */
export class GeoTiffWriter {
  private buffered = 0;
  private peakBuffered = 0;
  private state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';
  private failure: unknown = null;
  private end: number;
  private readonly offsets: Float64Array;
  private readonly counts: Float64Array;
  private readonly done: Uint8Array;
  private readonly tiles = new Map<number, OpenTile>();
  private readonly inflight = new Set<Promise<void>>();

  private constructor(
    readonly path: string,
    readonly plan: Readonly<TilePlan>,
    private readonly overwrite: boolean,
    private readonly temp: string,
    private readonly fd: FileHandle,
  ) {
    const n = plan.across * plan.down;
    this.offsets = new Float64Array(n);
    this.counts = new Float64Array(n);
    this.done = new Uint8Array(n);
    this.end = plan.bigTiff ? 16 : 8;
  }

  /** Bytes of pixels held in tiles started but not complete: what the writer's memory grows with. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The most `bufferedBytes` has been. */
  get peakBufferedBytes(): number {
    return this.peakBuffered;
  }

  /** @internal Use `createGeoTiff`. */
  static async create(path: string, options: GeoTiffWriterOptions): Promise<GeoTiffWriter> {
    if (typeof path !== 'string' || path === '') throw invalidParameterError(WHERE, 'path', 'a file path', path);
    const { overwrite, ...plan } = readPlan(options);
    const target = resolve(path);
    const existing = await stat(target).catch(() => null);
    if (existing?.isDirectory()) throw new Error(`${WHERE}: cannot write ${path}: it is a folder`);
    if (existing && !overwrite) throw new Error(`${WHERE}: ${path} already exists; pass overwrite: true to replace it`);
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    let fd: FileHandle;
    try {
      fd = await open(temp, 'wx');
    } catch (e) {
      throw fileError(path, e);
    }
    live.add(temp);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const t of live) {
          try {
            unlinkSync(t);
          } catch {
            // Already gone: nothing to clean.
          }
        }
      });
    }
    const w = new GeoTiffWriter(path, plan, overwrite, temp, fd);
    try {
      await fd.write(encodeHeader(plan.bigTiff, 0), 0, w.end, 0);
    } catch (e) {
      await w.abort();
      throw fileError(path, e);
    }
    return w;
  }

  /**
   * Writes the pixels of `window` (which must lie inside the raster): `data` is the dtype's typed
   * array of width * height * bands samples, band-sequential unless `interleave: 'pixel'`. Windows
   * may come in any order and need not align to tiles; each pixel is written once.
   */
  async writeWindow(window: { x: number; y: number; width: number; height: number }, data: GeoTiffArray, options?: WriteWindowOptions) {
    const where = `${WHERE}.writeWindow`;
    this.usable(where);
    const { width: W, height: H, bands: B, dtype, tileSize: T, across } = this.plan;
    if (!is.object(window)) throw invalidParameterError(where, 'window', 'an object {x, y, width, height}', window);
    const r = readOptions(where, window as unknown as Record<string, unknown>, ['x', 'y', 'width', 'height']);
    const x = r.int('x', undefined, { min: 0 });
    const y = r.int('y', undefined, { min: 0 });
    const width = r.int('width');
    const height = r.int('height');
    if (x + width > W || y + height > H) {
      throw outOfRangeError(where, 'window', `a window inside the ${W} x ${H} raster`, describeWindow(x, y, width, height) as unknown);
    }
    const Array_ = ARRAYS[this.plan.dtype];
    if (!(data instanceof Array_)) throw invalidParameterError(where, 'data', `a ${Array_.name} (the writer's dtype is ${dtype})`, data);
    if (data.length !== width * height * B) {
      throw outOfRangeError(
        where,
        'data.length',
        `${width} x ${height} x ${B} = ${width * height * B} samples for this window`,
        data.length,
      );
    }
    const pixel = readOptions(where, options, ['interleave']).choice('interleave', ['band', 'pixel'], 'band') === 'pixel';
    const tx0 = Math.floor(x / T);
    const ty0 = Math.floor(y / T);
    const tx1 = Math.floor((x + width - 1) / T);
    const ty1 = Math.floor((y + height - 1) / T);
    const x1 = x + width;
    const y1 = y + height;
    for (let ty = ty0; ty <= ty1; ty++) {
      for (let tx = tx0; tx <= tx1; tx++) {
        const idx = ty * across + tx;
        const rects = this.tiles.get(idx)?.rects;
        let twice = this.done[idx] === 1;
        for (let i = 0; rects && !twice && i < rects.length; i += 4)
          twice = rects[i]! < x1 && x < rects[i + 2]! && rects[i + 1]! < y1 && y < rects[i + 3]!;
        if (twice)
          throw new Error(`${where}: window ${describeWindow(x, y, width, height)} writes pixels of tile (${tx}, ${ty}) already written`);
      }
    }
    const completed: number[] = [];
    const plane = width * height;
    for (let ty = ty0; ty <= ty1; ty++) {
      for (let tx = tx0; tx <= tx1; tx++) {
        const idx = ty * across + tx;
        const tile = this.tiles.get(idx) ?? this.openTile(idx, tx, ty);
        const ix0 = Math.max(x, tx * T);
        const iy0 = Math.max(y, ty * T);
        const ix1 = Math.min(x1, (tx + 1) * T);
        const iy1 = Math.min(y1, (ty + 1) * T);
        const n = ix1 - ix0;
        const t = tile.data;
        for (let row = iy0; row < iy1; row++) {
          const to = ((row - ty * T) * T + (ix0 - tx * T)) * B;
          const from = (row - y) * width + (ix0 - x);
          if (B === 1 || pixel) t.set(data.subarray(from * B, (from + n) * B), to);
          else for (let b = 0; b < B; b++) for (let i = 0, s = b * plane + from; i < n; i++) t[to + i * B + b] = data[s + i]!;
        }
        tile.rects.push(ix0, iy0, ix1, iy1);
        tile.remaining -= n * (iy1 - iy0);
        if (tile.remaining === 0) completed.push(idx);
      }
    }
    const writes = completed.map((idx) => this.flush(idx));
    await Promise.all(writes);
  }

  private openTile(idx: number, tx: number, ty: number): OpenTile {
    const { width: W, height: H, bands: B, tileSize: T, noData } = this.plan;
    const data = new ARRAYS[this.plan.dtype](T * T * B);
    const fill = noData ?? 0;
    if (fill !== 0) data.fill(fill);
    const tile = { data, rects: [], remaining: (Math.min(W, (tx + 1) * T) - tx * T) * (Math.min(H, (ty + 1) * T) - ty * T) };
    this.tiles.set(idx, tile);
    this.buffered += data.byteLength;
    this.peakBuffered = Math.max(this.peakBuffered, this.buffered);
    return tile;
  }

  /** Compresses a complete tile and writes it at the end of the file; positions are taken synchronously, so writes may overlap. */
  private flush(idx: number): Promise<void> {
    const tile = this.tiles.get(idx)!;
    this.tiles.delete(idx);
    this.buffered -= tile.data.byteLength;
    this.done[idx] = 1;
    const bytes = encodeTile(tile.data, this.plan);
    const at = this.end;
    if (!this.plan.bigTiff && at + bytes.length > 0xffffffff) {
      this.failure = new Error(`${WHERE}: ${this.path} passes 4 GB as a classic TIFF; write it with bigTiff: true (or 'auto')`);
      return Promise.reject(this.failure);
    }
    this.end += bytes.length;
    this.offsets[idx] = at;
    this.counts[idx] = bytes.length;
    const p = this.fd.write(bytes, 0, bytes.length, at).then(
      () => undefined,
      (e) => {
        this.failure ??= fileError(this.path, e);
        throw this.failure;
      },
    );
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private usable(where: string): void {
    if (this.state !== 'open') throw new Error(`${where}: ${this.path} is ${this.state === 'closing' ? 'closing' : this.state}`);
    if (this.failure) throw this.failure;
  }

  /**
   * Writes the image directory and renames the file to its final name. Every pixel must have been
   * written: otherwise (or after a failed write) the file is removed and the error says what is missing.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state !== 'open') throw new Error(`${WHERE}.close: ${this.path} is ${this.state}`);
    this.state = 'closing';
    await Promise.allSettled([...this.inflight]);
    try {
      if (this.failure) throw this.failure;
      const missing = missingReport(this.plan, this.done, this.tiles);
      if (missing) throw new Error(`${WHERE}.close: ${this.path}: ${missing}; nothing was written`);
      const { bigTiff } = this.plan;
      const at = this.end + (this.end % 8 === 0 ? 0 : 8 - (this.end % 8));
      const fields = [...imageFields(this.plan, this.offsets, this.counts), ...geoFields(this.plan.code, this.plan.transform)];
      const ifd = encodeIfd(fields, at, bigTiff);
      if (!bigTiff && at + ifd.length > 0xffffffff)
        throw new Error(`${WHERE}: ${this.path} passes 4 GB as a classic TIFF; write it with bigTiff: true (or 'auto')`);
      try {
        await this.fd.write(ifd, 0, ifd.length, at);
        const header = encodeHeader(bigTiff, at);
        await this.fd.write(header, 0, header.length, 0);
        await this.fd.sync();
        await this.fd.close();
        if (!this.overwrite && (await stat(this.path).catch(() => null)))
          throw new Error(`${WHERE}: ${this.path} appeared while it was being written; pass overwrite: true to replace it`);
        await rename(this.temp, this.path);
      } catch (e) {
        throw (e as Error).message?.startsWith(WHERE) ? e : fileError(this.path, e);
      }
      live.delete(this.temp);
      this.state = 'closed';
    } catch (e) {
      this.state = 'open';
      await this.abort();
      throw e;
    }
  }

  /** Stops writing and removes the temporary file; the final name is left as it was. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.state === 'aborted' || this.state === 'closed') return;
    this.state = 'aborted';
    this.tiles.clear();
    this.buffered = 0;
    await Promise.allSettled([...this.inflight]);
    await this.fd.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
    live.delete(this.temp);
  }
}

/** Opens a GeoTIFF for writing window by window (see `GeoTiffWriterOptions`). */
export function createGeoTiff(path: string, options: GeoTiffWriterOptions): Promise<GeoTiffWriter> {
  return GeoTiffWriter.create(path, options);
}

/** Writes a whole raster at once: `data` is band-sequential ([bands, height, width]); dtype defaults to the data's. */
export async function writeGeoTiff(path: string, data: GeoTiffArray, options: GeoTiffWriterOptions): Promise<void> {
  const dtype: GeoTiffDType | null =
    data instanceof Uint8Array ? 'uint8' : data instanceof Uint16Array ? 'uint16' : data instanceof Float32Array ? 'float32' : null;
  if (!dtype) throw invalidParameterError('writeGeoTiff', 'data', 'a Uint8Array, Uint16Array or Float32Array', data);
  const merged = is.object(options) && options.dtype === undefined ? { ...options, dtype } : options;
  const w = await createGeoTiff(path, merged);
  try {
    await w.writeWindow({ x: 0, y: 0, width: w.plan.width, height: w.plan.height }, data);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}
