#!/usr/bin/python3
"""PyTorch's side of bench/predict-raster.mjs: segkit's raster prediction loop written in PyTorch,
on smp's own Unet (from smp's source, see torch_smp.py) loaded with the same checkpoint.

The loop is src/infer/raster.ts's: the raster padded to whole multiples of 32 (reflect), windows
of 512 with 128 shared pixels (the last one ending at the edge), batches of 4 windows, the
probabilities weighted by the outer product of two linear ramps and summed, TTA as the mean of
sigmoid(model(t(x))) mapped back by t's inverse, strips of window rows, the rows no later window
touches thresholded at the checkpoint's threshold and kept. The only difference is input and
output: Debian has no rasterio, so the GeoTIFF is read whole with PIL (libtiff) and the mask is
written with PIL (one deflate strip image); the peak RSS therefore includes the decoded raster
(3 bytes a pixel) and the mask (1 byte a pixel).

Usage: /usr/bin/python3 bench/torch_predict_raster.py <scene.tif> <checkpoint> <out.tif> <tta> <device> <threads>
Prints one JSON line: seconds (prediction, reading and writing included), maxRssMb, source, windows.
       /usr/bin/python3 bench/torch_predict_raster.py --compare <a.tif> <b.tif>
Prints the fraction of equal pixels and the foreground fractions of two masks."""
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from torch_common import info
from torch_smp import import_smp, read_safetensors, smp_source

Image.MAX_IMAGE_PIXELS = None
WINDOW, OVERLAP, BATCH, STRIDE = 512, 128, 4, 32


def window_starts(length, size, overlap):
    if length <= size:
        return [0]
    stride = size - overlap
    starts = list(range(0, length - size, stride))
    return starts + [length - size]


def ramp(length, r):
    r = min(r, length // 2)
    i = torch.arange(length, dtype=torch.float32)
    return torch.minimum(torch.minimum(torch.ones(length), (i + 1) / (r + 1)), (length - i) / (r + 1))


def transforms(mode):
    same = (lambda x: x, lambda y: y)
    flips = [same, (lambda x: x.flip(3),) * 2, (lambda x: x.flip(2),) * 2, (lambda x: x.rot90(2, (2, 3)),) * 2]
    if mode == 'none':
        return [same]
    if mode == 'flips':
        return flips
    return flips + [
        (lambda x: x.rot90(1, (2, 3)), lambda y: y.rot90(3, (2, 3))),
        (lambda x: x.rot90(3, (2, 3)), lambda y: y.rot90(1, (2, 3))),
        (lambda x: x.transpose(2, 3),) * 2,
        (lambda x: x.rot90(2, (2, 3)).transpose(2, 3), lambda y: y.transpose(2, 3).rot90(2, (2, 3))),
    ]


def load_model(checkpoint, device):
    tensors = read_safetensors(checkpoint)
    with open(checkpoint, 'rb') as f:
        n = int.from_bytes(f.read(8), 'little')
        meta = json.loads(f.read(n))['__metadata__']
    predict = json.loads(meta['info'])['config']['predict']
    smp = import_smp(smp_source(tempfile.mkdtemp()))
    if smp is None:
        raise SystemExit('torch_predict_raster.py: no smp source (.smp-src, SMP_SRC or the git mirror)')
    opts = predict['modelOptions']
    model = smp.Unet(opts['encoderName'], encoder_weights=None, in_channels=opts.get('inChannels', 3), classes=opts['classes'])
    state = {k[len('model/'):]: v for k, v in tensors.items() if k.startswith('model/')}
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.eval().to(device), predict, f'smp {getattr(smp, "__version__", "?")} Unet({opts["encoderName"]})'


def predict(scene, checkpoint, out, tta, device, threads):
    torch.set_num_threads(threads)
    model, meta, source = load_model(checkpoint, device)
    t0 = time.perf_counter()
    image = np.array(Image.open(scene).convert('RGB'))  # [H, W, 3] uint8
    height, width = image.shape[:2]
    mask = np.empty((height, width), dtype=np.uint8)
    ph, pw = -(-height // STRIDE) * STRIDE, -(-width // STRIDE) * STRIDE
    wh, ww = min(WINDOW, ph), min(WINDOW, pw)
    ys, xs = window_starts(ph, wh, OVERLAP), window_starts(pw, ww, OVERLAP)
    weights = (ramp(wh, OVERLAP)[:, None] * ramp(ww, OVERLAP)[None, :]).to(device)
    mean = torch.tensor(meta['normalization']['mean'], device=device).view(3, 1, 1)
    std = torch.tensor(meta['normalization']['std'], device=device).view(3, 1, 1)
    ts = transforms(tta)
    windows = 0
    acc = total = None
    with torch.inference_mode():
        for k, y in enumerate(ys):
            rows = min(wh, height - y)
            x = torch.from_numpy(image[y:y + rows]).to(device).permute(2, 0, 1).float().div(255).sub(mean).div(std)
            pad_b, pad_r = wh - rows, pw - width
            if pad_b or pad_r:
                mode = 'reflect' if pad_b < rows and pad_r < width else 'replicate'
                x = F.pad(x.unsqueeze(0), (0, pad_r, 0, pad_b), mode=mode).squeeze(0)
            s = torch.zeros((1, wh, pw), device=device)
            t = torch.zeros((1, wh, pw), device=device)
            for i in range(0, len(xs), BATCH):
                batch = xs[i:i + BATCH]
                inp = torch.stack([x[:, :, x0:x0 + ww] for x0 in batch])
                p = sum(inv(torch.sigmoid(model(fwd(inp)))) for fwd, inv in ts) / len(ts)
                p = p * weights
                for j, x0 in enumerate(batch):
                    s[:, :, x0:x0 + ww] += p[j]
                    t[:, :, x0:x0 + ww] += weights
                windows += len(batch)
            if acc is None:
                acc, total = s, t
            else:
                acc += s
                total += t
            nxt = ys[k + 1] if k + 1 < len(ys) else None
            done = min(wh if nxt is None else nxt - y, height - y)
            if done > 0:
                q = (acc[:, :done] / total[:, :done])[0, :, :width]
                mask[y:y + done] = (q >= meta['threshold']).to(torch.uint8).cpu().numpy()
            if nxt is not None:
                shift = nxt - y
                acc = torch.cat([acc[:, shift:], torch.zeros((1, shift, pw), device=device)], 1)
                total = torch.cat([total[:, shift:], torch.zeros((1, shift, pw), device=device)], 1)
    Image.fromarray(mask).save(out, compression='tiff_deflate')
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {'info': info(), 'source': source, 'seconds': seconds, 'maxRssMb': rss, 'windows': windows, 'width': width, 'height': height}


def compare(a, b):
    x = np.asarray(Image.open(a)) != 0
    y = np.asarray(Image.open(b)) != 0
    return {'agree': float((x == y).mean()), 'foregroundA': float(x.mean()), 'foregroundB': float(y.mean())}


if __name__ == '__main__':
    if sys.argv[1] == '--compare':
        print(json.dumps(compare(sys.argv[2], sys.argv[3])))
    else:
        scene, checkpoint, out, tta, device, threads = sys.argv[1:7]
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        print(json.dumps(predict(scene, checkpoint, out, tta, device, int(threads))))
