// Image and mask decoding on the real tiles (compared with PIL's decode) and on small files
// written by PIL, GDAL and a hand-written PNG writer (scripts/fixtures/make_decode_fixtures.py),
// plus every kind of bad file a data folder holds.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_PIXELS, type DecodedImage, decodeImage, decodeMask } from '../src/data/decode.js';
import { readImageHeader, sniffImageFormat } from '../src/data/image-header.js';
import { FIXTURES } from './helpers.js';

const ROOT = join(FIXTURES, '..', '..');
const DIR = join(FIXTURES, 'decode');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const files: Record<string, { planar?: number[]; indices?: number[]; valid?: number[]; invalid?: number[] }> = expected.files;
const JPEG_TILE = join(ROOT, 'test/data/oam-catanduanes/OAM-1772464-966380-21.png');
const PNG_TILE = join(ROOT, 'test/data/oam-kavre/OAM-1546876-881009-21.png');
const tmp = mkdtempSync(join(tmpdir(), 'segkit-decode-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function rejects(
  p: Promise<unknown>,
  kind: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const re of patterns) assert.match((e as Error).message, re);
    return true;
  });
}

function at(img: DecodedImage, c: number, x: number, y: number): number {
  return img.data[c * img.width * img.height + y * img.width + x]!;
}

test('sniffImageFormat goes by the bytes: the Catanduanes .png tiles are JPEG, the Kavre ones PNG', () => {
  assert.equal(sniffImageFormat(readFileSync(JPEG_TILE)), 'jpeg');
  assert.equal(sniffImageFormat(readFileSync(PNG_TILE)), 'png');
  const cases: [string, string][] = [
    ['grey.jpg', 'jpeg'],
    ['lossless.webp', 'webp'],
    ['palette.gif', 'gif'],
    ['five-band-u16.tif', 'tiff'],
  ];
  for (const [f, format] of cases) assert.equal(sniffImageFormat(readFileSync(join(DIR, f))), format, f);
  assert.equal(sniffImageFormat(new TextEncoder().encode('name,mask\n')), null);
  assert.equal(sniffImageFormat(new Uint8Array(0)), null);
  assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8])), null, 'two bytes are not enough');
});

test('readImageHeader reads sizes by hand: PNG IHDR, JPEG SOF, TIFF IFD, WebP and GIF', () => {
  assert.deepEqual(readImageHeader(readFileSync(PNG_TILE)), {
    format: 'png',
    width: 256,
    height: 256,
    channels: 4,
    bitDepth: 8,
    colorType: 'rgba',
  });
  assert.deepEqual(readImageHeader(readFileSync(JPEG_TILE)), { format: 'jpeg', width: 256, height: 256, channels: 3, bitDepth: 8 });
  const h = (f: string) => readImageHeader(readFileSync(join(DIR, f)));
  assert.deepEqual(h('grey.jpg'), { format: 'jpeg', width: 24, height: 16, channels: 1, bitDepth: 8 });
  assert.deepEqual(h('rgb16.png'), { format: 'png', width: 24, height: 16, channels: 3, bitDepth: 16, colorType: 'rgb' });
  assert.deepEqual(h('palette4.png'), { format: 'png', width: 24, height: 16, channels: 1, bitDepth: 4, colorType: 'palette' });
  assert.deepEqual(h('bomb.png'), { format: 'png', width: 200000, height: 200000, channels: 3, bitDepth: 8, colorType: 'rgb' });
  assert.deepEqual(h('five-band-u16.tif'), {
    format: 'tiff',
    width: 24,
    height: 16,
    channels: 5,
    bitDepth: 16,
    colorType: 'minisblack',
    sampleFormat: 'uint',
    extraSamples: [0, 0, 0, 0],
  });
  assert.deepEqual(h('rgba8.tif').extraSamples, [2], 'GDAL ALPHA=YES writes unassociated alpha');
  assert.equal(h('float2.tif').sampleFormat, 'float');
  assert.deepEqual([h('bigtiff-u16.tif').width, h('bigtiff-u16.tif').height, h('bigtiff-u16.tif').bitDepth], [24, 16, 16], 'BigTIFF');
  assert.deepEqual(h('lossless.webp'), { format: 'webp', width: 24, height: 16, channels: 3, bitDepth: 8, lossless: true });
  assert.deepEqual(h('lossy.webp'), { format: 'webp', width: 24, height: 16, channels: 3, bitDepth: 8, lossless: false });
  assert.deepEqual(h('palette.gif'), { format: 'gif', width: 24, height: 16, channels: 3, bitDepth: 8, colorType: 'palette' });
});

test('readImageHeader: truncated and damaged headers are Errors naming the file', () => {
  const png = readFileSync(PNG_TILE);
  assert.throws(
    () => readImageHeader(png.subarray(0, 20), 'a.png'),
    /^Error: a\.png: truncated PNG header: expected the 8-byte signature and the 25-byte IHDR chunk, but the file ends at byte 20$/,
  );
  assert.throws(
    () => readImageHeader(readFileSync(join(DIR, 'bad-crc.png')), 'b.png'),
    /b\.png: damaged PNG: the IHDR chunk's CRC is 0x[0-9a-f]{8} but its bytes give 0x[0-9a-f]{8}/,
  );
  assert.throws(
    () => readImageHeader(readFileSync(join(DIR, 'garbage.png')), 'g.png'),
    /g\.png: not a valid PNG: expected a 13-byte IHDR chunk after the signature, got 120 bytes starting with bytes/,
  );
  const jpeg = readFileSync(JPEG_TILE);
  assert.throws(
    () => readImageHeader(jpeg.subarray(0, 30), 'c.jpg'),
    /c\.jpg: truncated JPEG header: expected .*, but the file ends at byte 30/,
  );
  assert.throws(
    () => readImageHeader(new TextEncoder().encode('hello, world'), 'd.jpg'),
    /d\.jpg: not an image: expected JPEG, PNG, WebP, TIFF or GIF bytes, got 12 bytes starting with text 'hello, world'/,
  );
  assert.throws(
    () => readImageHeader(readFileSync(join(DIR, 'five-band-u16.tif')).subarray(0, 12), 't.tif'),
    /t\.tif: truncated TIFF header/,
  );
  assert.throws(() => readImageHeader(new Uint8Array(0)), /the image bytes: not an image: .*got an empty file \(0 bytes\)/);
});

test('the JPEG tiles decode as PIL decodes them (libjpeg-turbo in both: equal here, ±2 allowed)', async () => {
  const tiles = expected.tiles.filter((t: { mode: string }) => t.mode === 'RGB');
  assert.equal(tiles.length, 3);
  for (const t of tiles) {
    const img = await decodeImage(join(ROOT, t.path));
    assert.equal(img.format, 'jpeg', t.path);
    assert.deepEqual([img.channels, img.height, img.width, img.bitDepth, img.valid], [3, 256, 256, 8, null]);
    assert.ok(img.data instanceof Uint8Array);
    const n = 256 * 256;
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += img.data[c * n + i]!;
      // JPEG decoders may round IDCT and upsampling differently: a mean within 0.5 of PIL's.
      assert.ok(Math.abs(sum - t.sums[c]) / n < 0.5, `${t.path} channel ${c}: sum ${sum} vs PIL ${t.sums[c]}`);
    }
    for (const p of t.pixels)
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(at(img, c, p.x, p.y) - p.value[c]) <= 2, `${t.path} (${p.x}, ${p.y})`);
  }
});

test('the Kavre RGBA tiles: alpha 0 becomes valid 0 and is dropped; pixels equal PIL exactly', async () => {
  const tiles = expected.tiles.filter((t: { mode: string }) => t.mode === 'RGBA');
  assert.equal(tiles.length, 5);
  for (const t of tiles) {
    const img = await decodeImage(readFileSync(join(ROOT, t.path)), { path: t.path });
    assert.deepEqual([img.format, img.channels, img.height, img.width, img.bitDepth], ['png', 3, 256, 256, 8]);
    const n = 256 * 256;
    assert.ok(img.valid);
    assert.equal(n - img.valid.reduce((a, b) => a + b, 0), t.invalid, `${t.path}: alpha-0 pixels`);
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) if (img.valid[i]) sum += img.data[c * n + i]!;
      assert.equal(sum, t.sums[c], `${t.path} channel ${c}`);
    }
    for (const p of t.pixels)
      assert.deepEqual(
        [0, 1, 2].map((c) => at(img, c, p.x, p.y)),
        p.value.slice(0, 3),
      );
  }
  const withAlpha = await decodeImage(PNG_TILE, { alphaAsNodata: false });
  assert.deepEqual([withAlpha.channels, withAlpha.valid], [4, null]);
  const t = tiles.find((x: { path: string }) => PNG_TILE.endsWith(x.path))!;
  for (const p of t.pixels)
    assert.deepEqual(
      [0, 1, 2, 3].map((c) => at(withAlpha, c, p.x, p.y)),
      p.value,
    );
});

/** Decodes a fixture and compares it with what the script wrote. */
async function checkImage(
  name: string,
  want: { channels: number; bitDepth: number; format: string; type: string; tolerance?: number },
): Promise<DecodedImage> {
  const img = await decodeImage(join(DIR, name));
  const e = files[name]!;
  assert.deepEqual(
    [img.format, img.channels, img.height, img.width, img.bitDepth],
    [want.format, want.channels, 16, 24, want.bitDepth],
    name,
  );
  assert.equal(img.data.constructor.name, want.type, name);
  if (e.planar) {
    const tol = want.tolerance ?? 0;
    assert.equal(img.data.length, e.planar.length, name);
    const worst = e.planar.reduce((m, v, i) => Math.max(m, Math.abs(img.data[i]! - v)), 0);
    assert.ok(worst <= tol, `${name}: max |diff| ${worst} > ${tol}`);
  }
  if (e.valid) assert.deepEqual([...img.valid!], e.valid, `${name}: valid`);
  return img;
}

test('16-bit PNGs stay 16-bit: grey (PIL), RGB and RGBA (zlib-written)', async () => {
  await checkImage('grey16.png', { format: 'png', channels: 1, bitDepth: 16, type: 'Uint16Array' });
  await checkImage('rgb16.png', { format: 'png', channels: 3, bitDepth: 16, type: 'Uint16Array' });
  const rgba = await checkImage('rgba16.png', { format: 'png', channels: 3, bitDepth: 16, type: 'Uint16Array' });
  const rgb = await decodeImage(join(DIR, 'rgb16.png'));
  assert.deepEqual(rgba.data, rgb.data, 'alpha dropped, colour untouched');
});

test('grey stays one channel: 8-bit PNG, grey+alpha PNG, grey JPEG', async () => {
  await checkImage('grey8.png', { format: 'png', channels: 1, bitDepth: 8, type: 'Uint8Array' });
  await checkImage('grey-alpha8.png', { format: 'png', channels: 1, bitDepth: 8, type: 'Uint8Array' });
  await checkImage('grey.jpg', { format: 'jpeg', channels: 1, bitDepth: 8, type: 'Uint8Array', tolerance: 2 });
});

test('WebP (lossless) and GIF decode to RGB', async () => {
  await checkImage('lossless.webp', { format: 'webp', channels: 3, bitDepth: 8, type: 'Uint8Array' });
  await checkImage('palette.gif', { format: 'gif', channels: 3, bitDepth: 8, type: 'Uint8Array' });
  const lossy = await decodeImage(join(DIR, 'lossy.webp'));
  const e = files['lossless.webp']!.planar!;
  const mean = e.reduce((s, v, i) => s + Math.abs(lossy.data[i]! - v), 0) / e.length;
  assert.ok(mean < 12, `lossy WebP near the source: mean |diff| ${mean}`);
});

test('TIFFs: 5-band uint16 (GDAL, deflate, nodata 0) through geotiff.js; 8-bit RGB, RGBA, 4-band and float', async () => {
  const five = await checkImage('five-band-u16.tif', { format: 'tiff', channels: 5, bitDepth: 16, type: 'Uint16Array' });
  assert.ok(five.valid);
  // Pixel 0 is 0 in every band (nodata); pixel 1 is 0 in one band only, which GDAL's mask keeps.
  assert.deepEqual([five.valid[0], five.valid[1], five.valid.reduce((a, b) => a + b, 0)], [0, 1, 16 * 24 - 1]);
  await checkImage('rgb8.tif', { format: 'tiff', channels: 3, bitDepth: 8, type: 'Uint8Array' });
  await checkImage('rgba8.tif', { format: 'tiff', channels: 3, bitDepth: 8, type: 'Uint8Array' });
  const rgbn = await checkImage('rgbn8.tif', { format: 'tiff', channels: 4, bitDepth: 8, type: 'Uint8Array' });
  assert.equal(rgbn.valid, null, 'a 4th band that is not alpha stays a band');
  await checkImage('float2.tif', { format: 'tiff', channels: 2, bitDepth: 32, type: 'Float32Array' });
  const big = await checkImage('bigtiff-u16.tif', { format: 'tiff', channels: 1, bitDepth: 16, type: 'Uint16Array' });
  assert.equal(big.valid, null, 'no nodata value, no alpha');
});

test('the SpaceNet GeoTIFF: 900x900 uint16, values as gdal_translate reads them', async () => {
  const img = await decodeImage(join(ROOT, 'test/data/spacenet4-atlanta/sample_geotiff.tif'));
  assert.deepEqual([img.format, img.channels, img.height, img.width, img.bitDepth], ['tiff', 1, 900, 900, 16]);
  for (const p of expected.spacenetStats.pixels) assert.equal(at(img, 0, p.x, p.y), p.value);
  assert.equal(
    img.valid!.reduce((a, b) => a + b, 0),
    900 * 900,
    'NoData 0 marks no pixel of this file',
  );
});

test('decodeMask: palette PNGs give indices, 1-bit gives 0/1, grey RGB gives its grey, 16-bit stays', async () => {
  const cases: [string, string, boolean][] = [
    ['palette8.png', 'Uint8Array', true],
    ['palette4.png', 'Uint8Array', true],
    ['mask1bit.png', 'Uint8Array', false],
    ['mask-grey-rgb.png', 'Uint8Array', false],
    ['mask16.png', 'Uint16Array', false],
  ];
  for (const [name, type, palette] of cases) {
    const m = await decodeMask(join(DIR, name));
    assert.deepEqual([m.height, m.width, m.palette, m.data.constructor.name], [16, 24, palette, type], name);
    assert.deepEqual([...m.data], files[name]!.indices, name);
  }
  const ga = await decodeMask(join(DIR, 'grey-alpha8.png'));
  assert.deepEqual([...ga.data], files['grey-alpha8.png']!.planar, 'alpha is ignored in a mask');
  const tif = await decodeMask(readFileSync(join(ROOT, 'test/data/spacenet4-atlanta/sample_geotiff.tif')), { path: 'sn.tif' });
  assert.deepEqual([tif.height, tif.width, tif.data.constructor.name, tif.data[0]], [900, 900, 'Uint16Array', 132]);
});

test('decodeMask refuses colour and lossy masks, saying what to do', async () => {
  await rejects(
    decodeMask(join(DIR, 'mask-colour.png')),
    Error,
    /decodeMask: .*mask-colour\.png: expected a mask of class indices \(one channel, or channels that are equal\), got a colour mask: pixel \(x 0, y 0\) is \(0, 0, 9\); convert the colours to class indices/,
  );
  await rejects(
    decodeMask(JPEG_TILE),
    Error,
    /OAM-1772464-966380-21\.png: expected a lossless mask .*got a JPEG: lossy compression .* save masks as PNG/,
  );
  await rejects(decodeMask(join(DIR, 'lossy.webp')), Error, /lossy\.webp: expected a lossless mask .*got a lossy WebP/);
  await rejects(decodeMask(join(DIR, 'palette.gif')), Error, /palette\.gif: .*got a colour mask: pixel \(x 1, y 0\) is \(200, 10, 10\)/);
  await rejects(
    decodeMask(join(DIR, 'float2.tif')),
    Error,
    /float2\.tif: expected 8- or 16-bit unsigned class indices, got float 32-bit TIFF samples/,
  );
});

test('bad files: every failure names the file, what was expected and what came', async () => {
  const empty = join(tmp, 'empty.png');
  writeFileSync(empty, new Uint8Array(0));
  const text = join(tmp, 'notes.jpg');
  writeFileSync(text, 'not an image but a note\n');
  const jpeg = readFileSync(JPEG_TILE);
  const cut = join(tmp, 'cut.jpg');
  writeFileSync(cut, jpeg.subarray(0, jpeg.length >> 1));
  const cutEnd = join(tmp, 'cut-end.jpg');
  writeFileSync(cutEnd, jpeg.subarray(0, jpeg.length - 2));
  const png = readFileSync(PNG_TILE);
  const cutPng = join(tmp, 'cut.png');
  writeFileSync(cutPng, png.subarray(0, png.length >> 1));
  for (const fn of [decodeImage, decodeMask]) {
    const w = fn.name;
    await rejects(fn(empty), Error, new RegExp(`^${w}: .*empty\\.png: empty file \\(0 bytes\\): expected an image$`));
    await rejects(
      fn(text),
      Error,
      new RegExp(
        `${w}: .*notes\\.jpg: not an image: expected JPEG, PNG, WebP, TIFF or GIF bytes, got 24 bytes starting with text 'not an image but'`,
      ),
    );
    await rejects(fn(join(DIR, 'garbage.png')), Error, new RegExp(`${w}: .*garbage\\.png: not a valid PNG`));
    await rejects(fn(join(DIR, 'bad-crc.png')), Error, /bad-crc\.png: damaged PNG/);
    await rejects(fn(cutPng), Error, /cut\.png: cannot decode PNG/);
    await rejects(fn(join(tmp, 'missing.png')), Error, /missing\.png: no such file/);
  }
  // A truncated JPEG: sharp would hand back grey rows with failOn 'none'; segkit refuses it.
  await rejects(decodeImage(cut), Error, /decodeImage: .*cut\.jpg: cannot decode JPEG \(256x256\): VipsJpeg: premature end of JPEG image/);
  await rejects(decodeImage(cutEnd), Error, /cut-end\.jpg: cannot decode JPEG/);
  await rejects(
    decodeImage(jpeg.subarray(0, 200)),
    Error,
    /^decodeImage: the image bytes: cannot decode JPEG \(256x256\): .*premature end of JPEG image/,
  );
});

test('a PNG header claiming 200000x200000 fails on the header, before any decoding', async () => {
  for (const fn of [decodeImage, decodeMask]) {
    const t0 = performance.now();
    await rejects(
      fn(join(DIR, 'bomb.png')),
      RangeError,
      /bomb\.png: the PNG header states 200000x200000 = 40000000000 pixels, more than maxPixels 268402689 \(a guard against decompression bombs/,
    );
    assert.ok(performance.now() - t0 < 200, 'no allocation of 120 GB');
  }
  assert.equal(DEFAULT_MAX_PIXELS, 0x3fff * 0x3fff);
  await rejects(decodeImage(PNG_TILE, { maxPixels: 256 * 255 }), RangeError, /256x256 = 65536 pixels, more than maxPixels 65280/);
  const ok = await decodeImage(PNG_TILE, { maxPixels: 256 * 256 });
  assert.equal(ok.width, 256);
  assert.equal((await decodeImage(PNG_TILE, { maxPixels: Infinity })).width, 256);
});

test('options are checked', async () => {
  await rejects(
    decodeImage(PNG_TILE, { maxPixels: 0 }),
    RangeError,
    /^decodeImage: maxPixels must be a positive integer or Infinity, got 0$/,
  );
  await rejects(
    decodeImage(PNG_TILE, { maxPixels: '5' as unknown as number }),
    TypeError,
    /decodeImage: maxPixels must be a positive integer or Infinity, got '5'/,
  );
  await rejects(
    decodeImage(PNG_TILE, { alphaAsNodata: 1 as unknown as boolean }),
    TypeError,
    /decodeImage: alphaAsNodata must be true or false, got 1/,
  );
  await rejects(
    decodeImage(PNG_TILE, { maxPixel: 5 } as never),
    TypeError,
    /decodeImage: unknown option 'maxPixel'.*did you mean 'maxPixels'/,
  );
  await rejects(decodeMask(PNG_TILE, { alphaAsNodata: true } as never), TypeError, /decodeMask: unknown option 'alphaAsNodata'/);
  await rejects(
    decodeImage(42 as unknown as string),
    TypeError,
    /decodeImage: input must be a file path or a Uint8Array of file bytes, got 42/,
  );
});
