// What an image file is and how big it says it is, read from its first bytes before anything is
// decoded: a 40-byte PNG can claim 200000x200000 pixels (a decompression bomb), and a file's
// extension can lie (the OpenAerialMap tiles are JPEG bytes named .png). Pure TypeScript.

/** The image formats segkit decodes. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif';

/** An image's size and layout as its header states it. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** Samples per pixel as stored: PNG 1 (grey, palette), 2, 3, 4; JPEG components; TIFF SamplesPerPixel. */
  channels?: number;
  /** Bits per sample (PNG 1-16, JPEG 8/12, TIFF BitsPerSample of the first sample). */
  bitDepth?: number;
  /** PNG: 'grey', 'rgb', 'palette', 'grey-alpha', 'rgba'. TIFF: the photometric interpretation ('minisblack', 'rgb', ...). */
  colorType?: string;
  /** TIFF only: SampleFormat ('uint', 'int', 'float'), and ExtraSamples (0 unspecified, 1 associated alpha, 2 unassociated alpha). */
  sampleFormat?: 'uint' | 'int' | 'float';
  extraSamples?: number[];
  /** WebP only: lossless (VP8L) or lossy (VP8) pixels. */
  lossless?: boolean;
}

/** The format from the magic bytes, or null when they are none of segkit's formats. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)))
  )
    return 'tiff';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  return null;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function ascii(b: Uint8Array, from: number, n: number): string {
  return String.fromCharCode(...b.subarray(from, from + n));
}

/** The first bytes of a file as a message shows them: text when printable, else hex. */
export function describeBytes(bytes: Uint8Array, n = 16): string {
  if (bytes.length === 0) return 'an empty file (0 bytes)';
  const head = bytes.subarray(0, n);
  const printable = head.every((c) => (c >= 32 && c < 127) || c === 9 || c === 10 || c === 13);
  const shown = printable
    ? `text '${String.fromCharCode(...head).replace(/\s+/g, ' ')}'`
    : `bytes ${Array.from(head, (c) => c.toString(16).padStart(2, '0')).join(' ')}`;
  return `${bytes.length} bytes starting with ${shown}${bytes.length > n ? '...' : ''}`;
}

/** A file's name for messages; bytes without a path are 'the image bytes'. */
export function fileLabel(path: string | undefined): string {
  return path ?? 'the image bytes';
}

/**
 * Reads an image's header: format by magic bytes, then width and height (and what else is cheap:
 * channels, bit depth, colour type). PNG: IHDR, CRC checked; JPEG: the markers up to SOFn; WebP:
 * the VP8/VP8L/VP8X chunk; TIFF: the first IFD; GIF: the logical screen. Throws an Error naming
 * `path` for bytes that are no image or a truncated or damaged header.
 */
export function readImageHeader(bytes: Uint8Array, path?: string): ImageHeader {
  const file = fileLabel(path);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`readImageHeader: bytes must be a Uint8Array, got ${typeof bytes}`);
  const format = sniffImageFormat(bytes);
  if (format === null) throw new Error(`${file}: not an image: expected JPEG, PNG, WebP, TIFF or GIF bytes, got ${describeBytes(bytes)}`);
  const header = READERS[format](bytes, file);
  if (!(header.width > 0 && header.height > 0))
    throw new Error(
      `${file}: ${format.toUpperCase()} header states a size of ${header.width}x${header.height}: expected a positive width and height`,
    );
  return header;
}

function truncated(file: string, format: string, what: string, length: number): Error {
  return new Error(`${file}: truncated ${format} header: expected ${what}, but the file ends at byte ${length}`);
}

const READERS: Record<ImageFormat, (b: Uint8Array, file: string) => ImageHeader> = {
  png: readPngHeader,
  jpeg: readJpegHeader,
  webp: readWebpHeader,
  tiff: readTiffHeader,
  gif: readGifHeader,
};

const PNG_COLOR_TYPES: Record<number, [string, number, number[]]> = {
  0: ['grey', 1, [1, 2, 4, 8, 16]],
  2: ['rgb', 3, [8, 16]],
  3: ['palette', 1, [1, 2, 4, 8]],
  4: ['grey-alpha', 2, [8, 16]],
  6: ['rgba', 4, [8, 16]],
};

function readPngHeader(b: Uint8Array, file: string): ImageHeader {
  if (b.length < 33) throw truncated(file, 'PNG', 'the 8-byte signature and the 25-byte IHDR chunk', b.length);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const length = v.getUint32(8);
  const type = ascii(b, 12, 4);
  if (type !== 'IHDR' || length !== 13)
    throw new Error(`${file}: not a valid PNG: expected a 13-byte IHDR chunk after the signature, got ${describeBytes(b.subarray(8), 8)}`);
  const crc = v.getUint32(29);
  const actual = crc32(b.subarray(12, 29));
  if (crc !== actual)
    throw new Error(
      `${file}: damaged PNG: the IHDR chunk's CRC is ${hex(crc)} but its bytes give ${hex(actual)} (a corrupt or non-PNG file)`,
    );
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const bitDepth = b[24]!;
  const code = b[25]!;
  const color = PNG_COLOR_TYPES[code];
  if (!color) throw new Error(`${file}: not a valid PNG: IHDR colour type must be 0, 2, 3, 4 or 6, got ${code}`);
  if (!color[2].includes(bitDepth))
    throw new Error(
      `${file}: not a valid PNG: bit depth must be ${color[2].join(', ')} for colour type ${code} (${color[0]}), got ${bitDepth}`,
    );
  return { format: 'png', width, height, channels: color[1], bitDepth, colorType: color[0] };
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, as PNG and zlib use). */
export function crc32(bytes: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Start-of-frame markers: C0-CF but DHT (C4), JPG (C8) and DAC (CC). */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function readJpegHeader(b: Uint8Array, file: string): ImageHeader {
  let i = 2;
  for (;;) {
    // A marker is 0xFF (any number of fill bytes) then a code.
    if (i >= b.length) throw truncated(file, 'JPEG', 'a start-of-frame (SOFn) marker', b.length);
    if (b[i] !== 0xff)
      throw new Error(`${file}: damaged JPEG: expected a marker (0xFF) at byte ${i}, got 0x${b[i]!.toString(16).padStart(2, '0')}`);
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) throw truncated(file, 'JPEG', 'a marker code', b.length);
    const m = b[i++]!;
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01 || m === 0xd8) continue; // standalone markers
    if (m === 0xd9 || m === 0xda)
      throw new Error(
        `${file}: damaged JPEG: expected a start-of-frame (SOFn) marker before ${m === 0xda ? 'the scan (SOS)' : 'the end (EOI)'}`,
      );
    if (i + 2 > b.length) throw truncated(file, 'JPEG', `the length of marker 0xFF${m.toString(16).toUpperCase()}`, b.length);
    const length = (b[i]! << 8) | b[i + 1]!;
    if (length < 2)
      throw new Error(`${file}: damaged JPEG: marker 0xFF${m.toString(16).toUpperCase()} at byte ${i - 2} has length ${length}`);
    if (isSof(m)) {
      if (i + 8 > b.length) throw truncated(file, 'JPEG', 'the 8 bytes of the start-of-frame segment', b.length);
      const bitDepth = b[i + 2]!;
      const height = (b[i + 3]! << 8) | b[i + 4]!;
      const width = (b[i + 5]! << 8) | b[i + 6]!;
      const channels = b[i + 7]!;
      if (height === 0) throw new Error(`${file}: JPEG states its height in a DNL marker after the scan, which segkit does not read`);
      return { format: 'jpeg', width, height, channels, bitDepth };
    }
    i += length;
  }
}

function readWebpHeader(b: Uint8Array, file: string): ImageHeader {
  if (b.length < 30) throw truncated(file, 'WebP', 'the RIFF header and the first 18 bytes of the VP8/VP8L/VP8X chunk', b.length);
  const chunk = ascii(b, 12, 4);
  const u24 = (o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
  if (chunk === 'VP8X') {
    const hasAlpha = (b[20]! & 0x10) !== 0;
    // The first image chunk after VP8X says whether the pixels are lossless; look for it cheaply.
    const lossless = findRiffChunk(b, 'VP8L') !== -1 ? true : findRiffChunk(b, 'VP8 ') !== -1 ? false : undefined;
    return { format: 'webp', width: u24(24) + 1, height: u24(27) + 1, channels: hasAlpha ? 4 : 3, bitDepth: 8, lossless };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new Error(`${file}: damaged WebP: expected the VP8L signature 0x2f at byte 20, got 0x${b[20]!.toString(16)}`);
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    const hasAlpha = ((bits >>> 28) & 1) === 1;
    return {
      format: 'webp',
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      channels: hasAlpha ? 4 : 3,
      bitDepth: 8,
      lossless: true,
    };
  }
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a)
      throw new Error(`${file}: damaged WebP: expected the VP8 start code 9d 01 2a at byte 23`);
    const width = (b[26]! | (b[27]! << 8)) & 0x3fff;
    const height = (b[28]! | (b[29]! << 8)) & 0x3fff;
    return { format: 'webp', width, height, channels: 3, bitDepth: 8, lossless: false };
  }
  throw new Error(`${file}: damaged WebP: expected a VP8, VP8L or VP8X chunk at byte 12, got '${chunk}'`);
}

/** Offset of a RIFF chunk's four-character code, or -1; walks the chunk list from byte 12. */
function findRiffChunk(b: Uint8Array, code: string): number {
  let i = 12;
  while (i + 8 <= b.length) {
    if (ascii(b, i, 4) === code) return i;
    const size = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    i += 8 + size + (size & 1);
  }
  return -1;
}

function readGifHeader(b: Uint8Array, file: string): ImageHeader {
  if (b.length < 13) throw truncated(file, 'GIF', 'the 13-byte header and logical screen descriptor', b.length);
  return { format: 'gif', width: b[6]! | (b[7]! << 8), height: b[8]! | (b[9]! << 8), channels: 3, bitDepth: 8, colorType: 'palette' };
}

const PHOTOMETRIC = ['miniswhite', 'minisblack', 'rgb', 'palette', 'mask', 'separated', 'ycbcr'];
const SAMPLE_FORMAT: Record<number, 'uint' | 'int' | 'float'> = { 1: 'uint', 2: 'int', 3: 'float' };
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };

function readTiffHeader(b: Uint8Array, file: string): ImageHeader {
  if (b.length < 8) throw truncated(file, 'TIFF', 'the 8-byte header', b.length);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const big = v.getUint16(2, le) === 43;
  const need = (end: number, what: string) => {
    if (end > b.length) throw truncated(file, 'TIFF', what, b.length);
  };
  const u64 = (o: number) => Number(v.getBigUint64(o, le));
  need(big ? 16 : 8, 'the IFD offset');
  const ifd = big ? u64(8) : v.getUint32(4, le);
  need(ifd + (big ? 8 : 2), 'the first IFD');
  const count = big ? u64(ifd) : v.getUint16(ifd, le);
  const entrySize = big ? 20 : 12;
  const first = ifd + (big ? 8 : 2);
  need(first + count * entrySize, `the ${count} entries of the first IFD`);
  const tags = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const e = first + k * entrySize;
    const tag = v.getUint16(e, le);
    if (![256, 257, 258, 262, 277, 338, 339].includes(tag)) continue;
    const type = v.getUint16(e + 2, le);
    const n = big ? u64(e + 4) : v.getUint32(e + 4, le);
    const size = TYPE_SIZE[type] ?? 1;
    const inline = n * size <= (big ? 8 : 4);
    const at = inline ? e + (big ? 12 : 8) : big ? u64(e + 12) : v.getUint32(e + 8, le);
    need(at + n * size, `the values of TIFF tag ${tag}`);
    const values: number[] = [];
    for (let j = 0; j < Math.min(n, 16); j++) {
      const o = at + j * size;
      values.push(size === 1 ? b[o]! : size === 2 ? v.getUint16(o, le) : size === 4 ? v.getUint32(o, le) : u64(o));
    }
    tags.set(tag, values);
  }
  const width = tags.get(256)?.[0];
  const height = tags.get(257)?.[0];
  if (width === undefined || height === undefined)
    throw new Error(`${file}: damaged TIFF: the first IFD has no ImageWidth or ImageLength tag`);
  const photometric = tags.get(262)?.[0];
  return {
    format: 'tiff',
    width,
    height,
    channels: tags.get(277)?.[0] ?? 1,
    bitDepth: tags.get(258)?.[0] ?? 1,
    colorType: photometric === undefined ? undefined : (PHOTOMETRIC[photometric] ?? `photometric ${photometric}`),
    sampleFormat: SAMPLE_FORMAT[tags.get(339)?.[0] ?? 1] ?? 'uint',
    extraSamples: tags.get(338) ?? [],
  };
}
