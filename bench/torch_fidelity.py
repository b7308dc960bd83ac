#!/usr/bin/python3
"""PyTorch's side of bench/fidelity.mjs: the same recipe as segkit's Trainer ran, on what
fidelity.mjs left in <work>: recipe.json (threads, epochs, lr, weight decay, schedule length),
init.safetensors (segkit's initial U-Net state dict, keys as smp's) and batches.safetensors (the
exact normalised image and int64 mask batches segkit's DataLoader produced, so decoding and
rasterising differences do not count), and final.safetensors (segkit's trained state dict, compared
entry by entry with the one trained here).

The model is smp's own Unet('resnet18', encoder_weights=None, classes=1), built from smp's
source (commit 5006616: SMP_SRC, else .smp-src at the repository root, else extracted from the git
mirror at SMP_MIRROR; its module-level imports of timm, huggingface_hub,
safetensors and tqdm take no part in a randomly initialised resnet Unet, so stand-ins that raise
on use take their place when those packages are missing), and the loss smp's
DiceLoss('binary', from_logits=True). Without any of those it falls back to bench/torch_models_smp.py's
module-for-module rewrite of smp's Unet and smp's Dice formula, and says so.

Training: model.train(), per batch zero_grad, forward, loss, backward, AdamW step, then
CosineAnnealingLR step (per step, T_max = every step of the run), no shuffle, no augmentation.
Held-out score: eval mode, no grad, pixel Dice of sigmoid(logits) >= 0.5 micro-averaged over the
validation batches (segkit's evaluate()).
Usage: /usr/bin/python3 bench/torch_fidelity.py <work>   Prints one JSON line."""
import importlib.abc
import importlib.machinery
import json
import os
import struct
import subprocess
import sys
import time
import types

import numpy as np
import torch
import torch.nn.functional as F

from torch_common import info

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
# The smp commit segkit's model parity fixtures were made from.
SMP_COMMIT = '5006616'
SMP_MIRROR = os.environ.get('SMP_MIRROR', '/work/.mirror/qubvel-org+segmentation_models.pytorch/repo')
NP_DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8, 'BOOL': np.bool_}


def read_safetensors(path):
    """name -> torch tensor (Debian has no python safetensors)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    body = memoryview(raw)[8 + n:]
    out = {}
    for name, h in header.items():
        a, b = h['data_offsets']
        arr = np.frombuffer(body[a:b], dtype=NP_DTYPES[h['dtype']]).reshape(h['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def _stand_in(*args, **kwargs):
    raise RuntimeError('stand-in for a package this bench does not have (timm, huggingface_hub, safetensors or tqdm)')


class _StandInMeta(type):
    """Classes of the stand-in modules: any attribute is a function that raises on use; smp's
    classes may subclass them (SMPHubMixin subclasses huggingface_hub's mixin)."""

    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _stand_in

    def __call__(cls, *args, **kwargs):
        if '_stand_in' in cls.__dict__:
            _stand_in()
        return super().__call__(*args, **kwargs)


class _StandInModule(types.ModuleType):
    __path__ = []

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        cls = _StandInMeta(name, (object,), {'_stand_in': True, '__new__': lambda c, *a, **k: object.__new__(c)})
        setattr(self, name, cls)
        return cls


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    PACKAGES = ('timm', 'huggingface_hub', 'safetensors', 'tqdm')
    real = {}

    def find_spec(self, name, path, target=None):
        top = name.split('.')[0]
        if top not in self.PACKAGES:
            return None
        if top not in self.real:  # a real install wins
            self.real[top] = importlib.machinery.PathFinder.find_spec(top) is not None
        if self.real[top]:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        return _StandInModule(spec.name)

    def exec_module(self, module):
        pass


def smp_source(work):
    """Where smp's source is: SMP_SRC, the repository's .smp-src, or commit SMP_COMMIT extracted
    from the git mirror at SMP_MIRROR into `work`; None when there is none."""
    if os.environ.get('SMP_SRC'):
        return os.environ['SMP_SRC']
    local = os.path.join(ROOT, '.smp-src')
    if os.path.isdir(os.path.join(local, 'segmentation_models_pytorch')):
        return local
    if not os.path.isdir(SMP_MIRROR):
        return None
    out = os.path.join(work, 'smp-src')
    if os.path.isdir(os.path.join(out, 'segmentation_models_pytorch')):
        return out
    tar = out + '.tar'
    os.makedirs(out, exist_ok=True)
    for cmd in (['git', '--git-dir', SMP_MIRROR, 'archive', '-o', tar, SMP_COMMIT, 'segmentation_models_pytorch'], ['tar', '-xf', tar, '-C', out]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f'(could not extract smp {SMP_COMMIT} from {SMP_MIRROR}: {r.stderr.strip()})', file=sys.stderr)
            return None
    return out


def smp_model_and_loss(smp_src):
    """smp's Unet and DiceLoss from its source, or the rewrite when there is none."""
    if smp_src and os.path.isdir(os.path.join(smp_src, 'segmentation_models_pytorch')):
        sys.meta_path.insert(0, _StandInFinder())
        sys.path.insert(0, smp_src)
        import segmentation_models_pytorch as smp
        model = smp.Unet('resnet18', encoder_weights=None, classes=1)
        loss = smp.losses.DiceLoss('binary', from_logits=True)
        return model, loss, f'smp {getattr(smp, "__version__", "?")} from {smp_src}'
    from torch_models_smp import ResNetEncoder, SMPModel, UnetDecoder, seg_head
    model = SMPModel(ResNetEncoder(layers=(2, 2, 2, 2)), UnetDecoder(), seg_head(16, 1, 3))

    def dice(y_pred, y_true):
        # smp's DiceLoss('binary', from_logits=True) op for op: soft_tversky_score(alpha = beta = 0.5,
        # smooth 0, eps 1e-7) over dims (0, 2), channels without a true pixel zeroed, mean.
        bs = y_true.size(0)
        p = F.logsigmoid(y_pred).exp().view(bs, 1, -1)
        t = y_true.view(bs, 1, -1).type_as(p)
        output_sum, target_sum = torch.sum(p, dim=(0, 2)), torch.sum(t, dim=(0, 2))
        intersection = (output_sum + target_sum - torch.linalg.vector_norm(p - t, ord=1, dim=(0, 2))) / 2
        fp, fn = output_sum - intersection, target_sum - intersection
        score = (intersection + 0.0) / (intersection + 0.5 * fp + 0.5 * fn + 0.0).clamp_min(1e-7)
        loss = 1.0 - score
        loss *= (t.sum((0, 2)) > 0).to(loss.dtype)
        return loss.mean()
    return model, dice, 'bench/torch_models_smp.py rewrite of smp Unet (no smp source found)'


def main():
    work = sys.argv[1]
    with open(os.path.join(work, 'recipe.json')) as f:
        recipe = json.load(f)
    torch.set_num_threads(recipe['threads'])
    model, loss_fn, source = smp_model_and_loss(smp_source(work))
    init = read_safetensors(os.path.join(work, 'init.safetensors'))
    model.load_state_dict(init, strict=True)
    batches = read_safetensors(os.path.join(work, 'batches.safetensors'))
    train = [(batches[f'train.{i}.image'], batches[f'train.{i}.mask']) for i in range(recipe['trainBatches'])]
    val = [(batches[f'val.{i}.image'], batches[f'val.{i}.mask']) for i in range(recipe['valBatches'])]

    opt = torch.optim.AdamW(model.parameters(), lr=recipe['lr'], weight_decay=recipe['weightDecay'])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe['tMax'])
    losses, lrs = [], []
    t0 = time.perf_counter()
    for _ in range(recipe['epochs']):
        model.train()
        for image, mask in train:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(image), mask.unsqueeze(1).float())
            losses.append(loss.item())
            loss.backward()
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]['lr'])
    train_seconds = time.perf_counter() - t0

    model.eval()
    tp = fp = fn = 0
    with torch.no_grad():
        for image, mask in val:
            pred = torch.sigmoid(model(image)).squeeze(1) >= 0.5
            truth = mask != 0
            tp += int((pred & truth).sum())
            fp += int((pred & ~truth).sum())
            fn += int((~pred & truth).sum())
    dice = 1.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    # segkit's trained weights against these, entry by entry (running statistics and counters included).
    final = read_safetensors(os.path.join(work, 'final.safetensors'))
    ours = model.state_dict()
    weight_delta = max(float((ours[k].double() - final[k].double()).abs().max()) for k in ours)
    differing = sum(1 for k in ours if not torch.equal(ours[k], final[k]))
    print(json.dumps({'info': info(), 'source': source, 'losses': losses, 'lrs': lrs, 'dice': dice,
                      'confusion': {'tp': tp, 'fp': fp, 'fn': fn}, 'trainSeconds': train_seconds,
                      'weightDelta': weight_delta, 'weightsDiffering': differing, 'weights': len(ours)}))


if __name__ == '__main__':
    main()
