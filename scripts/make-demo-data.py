#!/usr/bin/python3
"""Build the bundled demo dataset data/demo/catanduanes/ from the fAIr sample data.

Run by hand, once, from the repository root:

    /usr/bin/python3 scripts/make-demo-data.py [SOURCE_DIR]

SOURCE_DIR defaults to /work/shared/data/oam-buildings/catanduanes. Needs only the
Python standard library and the GDAL command-line tools (ogr2ogr, gdal_rasterize,
gdal_translate), so no python3-gdal / numpy is required.

The output is deterministic: same source in, same tiles, masks and split out.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/oam-buildings/catanduanes"
OUT = os.path.join(REPO, "data", "demo", "catanduanes")
ZOOM = 21
TILE = 256
VAL_MIN_X = 1772484  # first column of the eastern block, which becomes val
TRAIN_BUILT, TRAIN_EMPTY = 16, 2
VAL_BUILT, VAL_EMPTY = 5, 1
# Tiles without buildings teach a model to predict "nothing here", but only if the
# imagery really shows none (OSM can simply be incomplete). These were checked by eye.
EMPTY_OK = {(1772471, 966382), (1772471, 966383), (1772484, 966372)}
# Half-extent of the EPSG:3857 square; the tile grid is laid over it.
ORIGIN = math.pi * 6378137.0

NAME_RE = re.compile(r"^OAM-(\d+)-(\d+)-(\d+)\.png$")


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def tile_bounds_3857(x, y, z):
    """(minx, miny, maxx, maxy) of XYZ tile (x, y, z); y counts from the north."""
    size = 2 * ORIGIN / (1 << z)
    minx = -ORIGIN + x * size
    maxy = ORIGIN - y * size
    return minx, maxy - size, minx + size, maxy


def sniff(path):
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:3] == b"\xff\xd8\xff":
        return "jpg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    raise SystemExit(f"{path}: neither JPEG nor PNG (starts {head.hex()})")


def rasterize(vector, layer, x, y, z, tmp):
    """Burn the polygons onto tile (x, y, z); returns (raw 8-bit mask bytes, .tif path).

    gdal_rasterize samples at pixel centres (no -at), the same rule the loader's users
    would get from any standard rasteriser; -te/-ts pin the grid to the exact tile.
    """
    minx, miny, maxx, maxy = tile_bounds_3857(x, y, z)
    tif = os.path.join(tmp, f"{x}-{y}-{z}.tif")
    run("gdal_rasterize", "-q", "-l", layer, "-burn", "255", "-init", "0", "-ot", "Byte",
        "-a_srs", "EPSG:3857", "-te", repr(minx), repr(miny), repr(maxx), repr(maxy),
        "-ts", str(TILE), str(TILE), "-of", "GTiff", vector, tif)
    # ENVI is a headerless raw dump: lets the standard library count pixels without numpy.
    raw = os.path.join(tmp, f"{x}-{y}-{z}.bin")
    run("gdal_translate", "-q", "-of", "ENVI", tif, raw)
    with open(raw, "rb") as f:
        data = f.read()
    assert len(data) == TILE * TILE, (raw, len(data))
    return data, tif


README = """# Demo dataset: Catanduanes (Philippines), drone tiles with building masks

{n} real aerial tiles of a village on Catanduanes island, with building footprints
from OpenStreetMap rasterised to masks. Small enough to ship in the package (about
{kb} KB of images and masks) and to train a toy model on in seconds. Load it with
`loadDemoTiles(dir, split)` from `src/data/demo-tiles.ts` (`defaultDemoDir()` points
here).

## Layout
- `images/<x>-<y>-<z>.jpg`: the original 256x256 RGB tiles, byte for byte (the source
  names them `OAM-<x>-<y>-<z>.png` but they are JPEG; any true PNG would keep `.png`
  and be RGBA with alpha 0 = no data).
- `masks/<x>-<y>-<z>.png`: 256x256, 8-bit single channel, 255 = building, 0 = background.
- `split.json`: `{{ "train": [...], "val": [...] }}` tile names.

## Tile geometry
Slippy-map (XYZ) tiles at zoom {z} (about 7.5 cm per pixel, 256 px ~ 19 m), Web Mercator
EPSG:3857, y counted from the north. The file name is the only georeference. Tile
(x, y, z) spans, in EPSG:3857 metres with o = pi * 6378137 and s = 2o / 2^z:
`minx = -o + x*s`, `maxx = minx + s`, `maxy = o - y*s`, `miny = maxy - s`.
Equivalently, lon/lat maps to pixel
`px = ((lon + 180) / 360 * 2^z - x) * 256`,
`py = ((1 - ln(tan(lat) + sec(lat)) / pi) / 2 * 2^z - y) * 256`.

## How it was made
    /usr/bin/python3 scripts/make-demo-data.py /work/shared/data/oam-buildings/catanduanes

The polygons (`labels.geojson`, EPSG:4326) were reprojected to EPSG:3857 with `ogr2ogr`
and burnt with `gdal_rasterize -burn 255 -te <tile bounds> -ts 256 256` (a pixel is
building when its centre lies inside a polygon). The script keeps the {n_built} most
built-up zoom-{z} tiles and {n_empty} tiles without buildings, checked by eye to show none
(a road, vegetation, grass), so a model also sees "nothing here".

Split (spatial, by tile column): the source holds two separate blocks of tiles about
250 m apart; train is the western block (x < {val_min_x}), val the eastern one, so no
building straddles the split. Building-pixel fraction: train {f_train:.3f}, val {f_val:.3f}.

| tile | split | building fraction |
|------|-------|-------------------|
{rows}

Known label noise (it is OSM): some footprints are offset or simplified by a pixel or
two against the roofs, a few polygons overlap each other, and some small sheds and
lean-tos carry no label.

## Attribution and licences
- Imagery (c) OpenAerialMap contributors / Open Imagery Network, CC BY 4.0.
- Labels (c) OpenStreetMap contributors, ODbL 1.0 (hand-drawn ones treated the same).
- Source: the HOT fAIr project's published sample training data.

These masks are a derived database of OpenStreetMap data and stay under ODbL 1.0; keep
these lines with any copy.
"""


def write_readme(chosen, split):
    def frac(part):
        fs = [c[1] for c in chosen if c[0] == part]
        return sum(fs) / len(fs)
    size = sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(OUT) for f in files)
    rows = "\n".join(f"| {c[2]}-{c[3]}-{c[4]} | {c[0]} | {c[1]:.3f} |" for c in chosen)
    text = README.format(
        n=len(chosen), kb=round(size / 1024), z=ZOOM,
        n_built=TRAIN_BUILT + VAL_BUILT, n_empty=TRAIN_EMPTY + VAL_EMPTY,
        val_min_x=VAL_MIN_X, f_train=frac("train"), f_val=frac("val"), rows=rows)
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(text)


def main():
    tiles = []
    for fn in sorted(os.listdir(SRC)):
        m = NAME_RE.match(fn)
        if m and int(m.group(3)) == ZOOM:
            tiles.append((int(m.group(1)), int(m.group(2)), ZOOM, fn))
    if not tiles:
        raise SystemExit(f"no z{ZOOM} tiles in {SRC}")

    tmp = tempfile.mkdtemp(prefix="segkit-demo-")
    try:
        vector = os.path.join(tmp, "labels3857.gpkg")
        # GeoJSON is lon/lat (CRS84 order); GDAL reads it that way and reprojects.
        run("ogr2ogr", "-t_srs", "EPSG:3857", "-nln", "labels", "-f", "GPKG", vector,
            os.path.join(SRC, "labels.geojson"))

        stats = []  # (fraction, x, y, z, fn, tif)
        for x, y, z, fn in tiles:
            data, tif = rasterize(vector, "labels", x, y, z, tmp)
            frac = sum(1 for b in data if b) / len(data)
            stats.append((frac, x, y, z, fn, tif))

        # Spatial split by tile column: the source has two separate blocks of z21 tiles,
        # x 1772464..1772471 (west) and x 1772484..1772487 (east), about 250 m apart, so
        # no building and no stretch of road is shared between train and val.
        chosen = []
        for part, n_built, n_empty in (("train", TRAIN_BUILT, TRAIN_EMPTY),
                                       ("val", VAL_BUILT, VAL_EMPTY)):
            pool = [s for s in stats if (s[1] >= VAL_MIN_X) == (part == "val")]
            # Most-built first for plenty of signal; ties broken by position for stability.
            built = sorted((s for s in pool if s[0] > 0), key=lambda s: (-s[0], s[1], s[2]))
            empty = [s for s in pool if s[0] == 0 and (s[1], s[2]) in EMPTY_OK]
            if len(built) < n_built or len(empty) < n_empty:
                raise SystemExit(f"{part}: only {len(built)} built / {len(empty)} empty tiles")
            chosen += [(part,) + s for s in built[:n_built] + empty[:n_empty]]
        chosen.sort(key=lambda s: (s[2], s[3]))

        if os.path.isdir(OUT):
            shutil.rmtree(OUT)
        os.makedirs(os.path.join(OUT, "images"))
        os.makedirs(os.path.join(OUT, "masks"))
        split = {"train": [], "val": []}
        report = []
        for part, frac, x, y, z, fn, tif in chosen:
            name = f"{x}-{y}-{z}"
            src = os.path.join(SRC, fn)
            # Copy the original bytes: re-encoding would add a second round of JPEG loss.
            shutil.copyfile(src, os.path.join(OUT, "images", f"{name}.{sniff(src)}"))
            run("gdal_translate", "-q", "-of", "PNG", "-co", "ZLEVEL=9", tif,
                os.path.join(OUT, "masks", f"{name}.png"))
            split[part].append(name)
            report.append(f"{name}  building fraction {frac:.4f}  {part}")
        # GDAL's PNG driver writes a .aux.xml sidecar with the georeference; not wanted.
        for fn in os.listdir(os.path.join(OUT, "masks")):
            if fn.endswith(".aux.xml"):
                os.remove(os.path.join(OUT, "masks", fn))
        with open(os.path.join(OUT, "split.json"), "w") as f:
            json.dump(split, f, indent=2)
            f.write("\n")
        write_readme(chosen, split)
        print("\n".join(report))
        n_built = sum(1 for s in stats if s[0] > 0)
        print(f"{n_built} of {len(stats)} z{ZOOM} tiles have buildings; "
              f"chose {len(chosen)}: train {len(split['train'])}, val {len(split['val'])}")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
