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
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

from torch_common import info
from torch_smp import import_smp, read_safetensors, smp_source


def smp_model_and_loss(smp_src):
    """smp's Unet and DiceLoss from its source, or the rewrite when there is none."""
    smp = import_smp(smp_src)
    if smp is not None:
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
