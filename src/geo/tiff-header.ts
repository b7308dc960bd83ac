// TIFF header checks made before geotiff.js parses a file: the signature (so that a PNG or a
// JSON file named .tif gets an error naming its first bytes) and the first image directory with
// every value it points to inside the file (geotiff.js reads past the end of a file as zeros, so
// a truncated header would otherwise come out as a raster of nonsense sizes).

import { open, stat } from 'node:fs/promises';

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function sniff(bytes: Uint8Array): string {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return ' (a PNG file)';
  if (starts(0xff, 0xd8, 0xff)) return ' (a JPEG file)';
  if (starts(0x7b) || starts(0x5b)) return ' (text, perhaps JSON)';
  return '';
}

/**
 * Checks the TIFF signature (classic or BigTIFF, either byte order) and the first image directory
 * of the file at `path`; returns the file's size in bytes. Errors name the file and what was wrong.
 */
export async function checkTiffHeader(path: string): Promise<number> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a regular file');
    size = s.size;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`openRaster: cannot open ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { cause: e });
  }
  const head = new Uint8Array(8);
  const fd = await open(path, 'r');
  let n: number;
  try {
    n = (await fd.read(head, 0, 8, 0)).bytesRead;
  } finally {
    await fd.close();
  }
  const bytes = head.subarray(0, n);
  const le = bytes[0] === 0x49 && bytes[1] === 0x49 && (bytes[2] === 42 || bytes[2] === 43) && bytes[3] === 0;
  const be = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && (bytes[3] === 42 || bytes[3] === 43);
  if (n === 0) throw new Error(`openRaster: ${path} is empty, expected a TIFF file`);
  if (!le && !be) {
    throw new Error(
      `openRaster: ${path} is not a TIFF file: it starts with ${hex(bytes)}${sniff(bytes)}, a TIFF starts with 49 49 2a 00 (II*) or 4d 4d 00 2a (MM*)`,
    );
  }
  if (n < 8) throw new Error(`openRaster: ${path} is truncated: ${n} bytes, a TIFF header alone needs 8`);
  await checkDirectory(path, size, le, bytes[2] === 43 || bytes[3] === 43);
  return size;
}

/** Bytes per value of each TIFF field type. */
const FIELD_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/**
 * Checks that the first image directory and every value it points to lie inside the file:
 * geotiff.js reads past the end of a file as zeros, so a truncated header would otherwise come
 * out as a raster of nonsense sizes.
 */
async function checkDirectory(path: string, size: number, littleEndian: boolean, bigTiff: boolean): Promise<void> {
  const fd = await open(path, 'r');
  try {
    const read = async (offset: number, length: number, what: string): Promise<DataView> => {
      if (offset + length > size)
        throw new Error(`openRaster: ${path} is truncated: ${what} runs to byte ${offset + length}, the file has ${size} bytes`);
      const buf = new Uint8Array(length);
      await fd.read(buf, 0, length, offset);
      return new DataView(buf.buffer);
    };
    const offsetSize = bigTiff ? 8 : 4;
    const word = (v: DataView, at: number) => (bigTiff ? Number(v.getBigUint64(at, littleEndian)) : v.getUint32(at, littleEndian));
    const header = await read(0, bigTiff ? 16 : 8, 'the header');
    const ifd = word(header, bigTiff ? 8 : 4);
    const countView = await read(ifd, bigTiff ? 8 : 2, 'the first image directory');
    const count = bigTiff ? Number(countView.getBigUint64(0, littleEndian)) : countView.getUint16(0, littleEndian);
    if (count === 0) throw new Error(`openRaster: ${path} is a corrupt TIFF: its first image directory (at byte ${ifd}) is empty`);
    const entrySize = bigTiff ? 20 : 12;
    const entries = await read(ifd + countView.byteLength, count * entrySize, 'the first image directory');
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      const tag = entries.getUint16(at, littleEndian);
      const type = entries.getUint16(at + 2, littleEndian);
      const n = bigTiff ? Number(entries.getBigUint64(at + 4, littleEndian)) : entries.getUint32(at + 4, littleEndian);
      const bytes = n * (FIELD_SIZES[type] ?? 0);
      if (bytes <= offsetSize) continue;
      const valueOffset = word(entries, at + (bigTiff ? 12 : 8));
      if (valueOffset + bytes > size) {
        throw new Error(
          `openRaster: ${path} is truncated: the value of TIFF tag ${tag} runs to byte ${valueOffset + bytes}, the file has ${size} bytes`,
        );
      }
    }
  } finally {
    await fd.close();
  }
}
