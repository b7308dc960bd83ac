"""PyTorch side of models.mjs: one process per (model, round), printing one JSON line with the
parameter count, predict times at 1x3x512x512 (eval + torch.inference_mode), training-step
times at 4x3x256x256 (forward, BCE-with-logits against a random 0/1 target, backward, SGD with
momentum), the peak RSS after building the model and after each phase, and minor page faults per
timed iteration of each phase.

Usage: python3 torch_models.py NAME THREADS WARMUP PREDICT_ITERS TRAIN_ITERS
       python3 torch_models.py --info          (machine fields and the models defined here)

torchvision builds fcn_resnet50 and deeplabv3_resnet50 itself. smp is not installable here, so
its Unet, FPN, DeepLabV3Plus, PSPNet, Linknet, UnetPlusPlus, MAnet and PAN
(segmentation_models_pytorch 0.5) are rewritten module for module on torchvision's resnet34 in
torch_models_smp.py; SegNet (vgg16_bn), FCN-32s/16s/8s and DeepLab-LargeFOV (vgg16), the
original U-Net (milesial/Pytorch-UNet without BatchNorm), DeepLab v2 (resnet101) and RefineNet
(resnet34) in torch_models_paper.py. They are written the way a PyTorch user writes them
(inplace ReLUs where smp/torchvision/milesial use them, SegNet's pool indices taken from the
encoder's own pools, FCN's skips from the pool outputs)."""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.segmentation import deeplabv3_resnet50, fcn_resnet50

from torch_common import info
from torch_models_paper import FCN, DeepLabV1, DeepLabV2, SegNet, UNetOriginal, refinenet
from torch_models_smp import deeplabv3plus, fpn, linknet, manet, pan, pspnet, unet, unetplusplus


class Out(nn.Sequential):
    """torchvision's segmentation models return {'out': ...}."""

    def forward(self, x):
        return self[0](x)['out']


TV = dict(weights=None, weights_backbone=None, num_classes=1, aux_loss=False)
MODELS = {'unet': unet, 'fcn': lambda: Out(fcn_resnet50(**TV)), 'deeplabv3': lambda: Out(deeplabv3_resnet50(**TV)),
          'deeplabv3plus': deeplabv3plus, 'pspnet': pspnet, 'fpn': fpn, 'segnet': SegNet, 'fcn8s': lambda: FCN(8),
          'unet-original': UNetOriginal, 'deeplabv1': DeepLabV1, 'linknet': linknet, 'unetplusplus': unetplusplus,
          'manet': manet, 'pan': pan, 'refinenet': refinenet, 'deeplabv2': DeepLabV2, 'fcn16s': lambda: FCN(16),
          'fcn32s': lambda: FCN(32)}


def main():
    if sys.argv[1] == '--info':
        print(json.dumps({**info(), 'models': list(MODELS)}))
        return
    name, threads, warmup, predict_iters, train_iters = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MODELS[name]()
    params = sum(p.numel() for p in model.parameters())
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    minflt = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    build_rss, faults = rss(), []

    def timed(fn, n):
        for _ in range(warmup):
            fn()
        ms, f0 = [], minflt()
        for _ in range(n):
            t0 = time.perf_counter_ns()
            fn()
            ms.append((time.perf_counter_ns() - t0) / 1e6)
        faults.append((minflt() - f0) / max(n, 1))
        return ms

    x = torch.randn(1, 3, 512, 512)
    model.eval()

    def predict():
        with torch.inference_mode():
            model(x)

    predict_ms = timed(predict, predict_iters)
    predict_rss = rss()
    del x

    xt = torch.randn(4, 3, 256, 256)
    yt = (torch.rand(4, 1, 256, 256) > 0.5).float()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss = [float('nan')]

    def step():
        opt.zero_grad(set_to_none=True)
        out = F.binary_cross_entropy_with_logits(model(xt), yt)
        out.backward()
        opt.step()
        loss[0] = out.item()

    train_ms = timed(step, train_iters)
    print(json.dumps({'params': params, 'buildRssMb': build_rss, 'predictMs': predict_ms, 'predictRssMb': predict_rss,
                      'trainMs': train_ms, 'trainRssMb': rss(), 'faults': faults, 'loss': loss[0]}))


if __name__ == '__main__':
    main()
