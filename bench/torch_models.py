"""PyTorch side of models.mjs: one process per (model, round), printing one JSON line with the
parameter count, predict times at 1x3x512x512 (eval + torch.inference_mode), training-step
times at 4x3x256x256 (forward, BCE-with-logits against a random 0/1 target, backward, SGD with
momentum), the peak RSS after building the model and after each phase, and minor page faults per
timed iteration of each phase.

Usage: python3 torch_models.py NAME THREADS WARMUP PREDICT_ITERS TRAIN_ITERS
       python3 torch_models.py --info          (machine fields and the models defined here)

torchvision builds fcn_resnet50 and deeplabv3_resnet50 itself. smp is not installable here, so
its Unet, FPN, DeepLabV3Plus and PSPNet (segmentation_models_pytorch 0.5) are rewritten below
module for module on torchvision's resnet34, as are SegNet (vgg16_bn), FCN-8s (vgg16), the
original U-Net (milesial/Pytorch-UNet without BatchNorm) and DeepLab-LargeFOV (vgg16), the way
a PyTorch user writes them (inplace ReLUs where smp/torchvision/milesial use them, SegNet's pool
indices taken from the encoder's own pools, FCN's skips from the pool outputs)."""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import vgg16, vgg16_bn
from torchvision.models.resnet import BasicBlock, ResNet
from torchvision.models.segmentation import deeplabv3_resnet50, fcn_resnet50

from torch_common import info


# ---- smp's building blocks ------------------------------------------------------------------
def dilate(stage, rate):
    """smp's replace_strides_with_dilation."""
    for m in stage.modules():
        if isinstance(m, nn.Conv2d):
            m.stride = (1, 1)
            m.dilation = (rate, rate)
            kh, kw = m.kernel_size
            m.padding = ((kh // 2) * rate, (kw // 2) * rate)


class ResNet34Encoder(ResNet):
    """smp's ResNetEncoder for resnet34: torchvision's ResNet without fc/avgpool, depth+1 features."""

    def __init__(self, depth=5, output_stride=32):
        super().__init__(BasicBlock, [3, 4, 6, 3])
        del self.fc, self.avgpool
        self.depth = depth
        if output_stride == 16:
            dilate(self.layer4, 2)
        elif output_stride == 8:
            dilate(self.layer3, 2)
            dilate(self.layer4, 4)

    def forward(self, x):
        feats = [x]
        x = self.relu(self.bn1(self.conv1(x)))
        feats.append(x)
        for i, layer in enumerate([self.layer1, self.layer2, self.layer3, self.layer4][: self.depth - 1]):
            x = layer(self.maxpool(x) if i == 0 else x)
            feats.append(x)
        return feats


def conv2d_relu(cin, cout, k, padding=0, norm=True):
    """smp's Conv2dReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=padding, bias=not norm),
                         nn.BatchNorm2d(cout) if norm else nn.Identity(), nn.ReLU(inplace=True))


def seg_head(cin, classes, k=3, upsampling=1):
    """smp's SegmentationHead (activation None)."""
    return nn.Sequential(nn.Conv2d(cin, classes, k, padding=k // 2),
                         nn.UpsamplingBilinear2d(scale_factor=upsampling) if upsampling > 1 else nn.Identity(), nn.Identity())


class SMPModel(nn.Module):
    def __init__(self, encoder, decoder, head):
        super().__init__()
        self.encoder, self.decoder, self.segmentation_head = encoder, decoder, head

    def forward(self, x):
        return self.segmentation_head(self.decoder(self.encoder(x)))


# ---- smp Unet ---------------------------------------------------------------------------------
class UnetBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = conv2d_relu(cin + skip, cout, 3, 1)
        self.attention1 = nn.Identity()
        self.conv2 = conv2d_relu(cout, cout, 3, 1)
        self.attention2 = nn.Identity()

    def forward(self, x, h, w, skip=None):
        x = F.interpolate(x, size=(h, w), mode='nearest')
        if skip is not None:
            x = self.attention1(torch.cat([x, skip], dim=1))
        return self.attention2(self.conv2(self.conv1(x)))


class UnetDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), dec=(256, 128, 64, 32, 16)):
        super().__init__()
        enc = list(enc[1:])[::-1]
        ins = [enc[0]] + list(dec[:-1])
        skips = enc[1:] + [0]
        self.center = nn.Identity()
        self.blocks = nn.ModuleList(UnetBlock(i, s, o) for i, s, o in zip(ins, skips, dec))

    def forward(self, feats):
        shapes = [f.shape[2:] for f in feats][::-1]
        feats = feats[1:][::-1]
        x = self.center(feats[0])
        for i, block in enumerate(self.blocks):
            h, w = shapes[i + 1]
            x = block(x, h, w, feats[i + 1] if i + 1 < len(feats) else None)
        return x


def unet():
    return SMPModel(ResNet34Encoder(), UnetDecoder(), seg_head(16, 1, 3))


# ---- smp FPN ----------------------------------------------------------------------------------
class Conv3x3GNReLU(nn.Module):
    def __init__(self, cin, cout, upsample=False):
        super().__init__()
        self.upsample = upsample
        self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(32, cout), nn.ReLU(inplace=True))

    def forward(self, x):
        x = self.block(x)
        return F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True) if self.upsample else x


class FPNBlock(nn.Module):
    def __init__(self, pyramid, skip):
        super().__init__()
        self.skip_conv = nn.Conv2d(skip, pyramid, 1)

    def forward(self, x, skip):
        return F.interpolate(x, scale_factor=2.0, mode='nearest') + self.skip_conv(skip)


class FPNDecoder(nn.Module):
    def __init__(self, enc=(512, 256, 128, 64), pyramid=256, seg=128):
        super().__init__()
        self.p5 = nn.Conv2d(enc[0], pyramid, 1)
        self.p4, self.p3, self.p2 = (FPNBlock(pyramid, c) for c in enc[1:])
        self.seg_blocks = nn.ModuleList(
            nn.Sequential(*[Conv3x3GNReLU(pyramid if i == 0 else seg, seg, upsample=bool(n)) for i in range(max(n, 1))]) for n in [3, 2, 1, 0])
        self.dropout = nn.Dropout2d(p=0.2, inplace=True)

    def forward(self, feats):
        c2, c3, c4, c5 = feats[-4:]
        p5 = self.p5(c5)
        p4 = self.p4(p5, c4)
        p3 = self.p3(p4, c3)
        p2 = self.p2(p3, c2)
        return self.dropout(sum(b(p) for b, p in zip(self.seg_blocks, [p5, p4, p3, p2])))


def fpn():
    return SMPModel(ResNet34Encoder(), FPNDecoder(), seg_head(128, 1, 1, 4))


# ---- smp DeepLabV3Plus (ASPP as smp/torchvision) ------------------------------------------------
def separable(cin, cout, k, padding=0, dilation=1, bias=True):
    return nn.Sequential(nn.Conv2d(cin, cin, k, padding=padding, dilation=dilation, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=bias))


class ASPPPooling(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x):
        return F.interpolate(super().forward(x), size=x.shape[-2:], mode='bilinear', align_corners=False)


class ASPP(nn.Module):
    def __init__(self, cin, cout=256, rates=(12, 24, 36), sep=True):
        super().__init__()
        conv = (lambda r: separable(cin, cout, 3, r, r, False)) if sep else (lambda r: nn.Conv2d(cin, cout, 3, padding=r, dilation=r, bias=False))
        self.convs = nn.ModuleList([nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())]
                                   + [nn.Sequential(conv(r), nn.BatchNorm2d(cout), nn.ReLU()) for r in rates] + [ASPPPooling(cin, cout)])
        self.project = nn.Sequential(nn.Conv2d(5 * cout, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([c(x) for c in self.convs], dim=1))


class DeepLabV3PlusDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), c=256):
        super().__init__()
        self.aspp = nn.Sequential(ASPP(enc[-1], c), separable(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.up = nn.UpsamplingBilinear2d(scale_factor=4)
        self.block1 = nn.Sequential(nn.Conv2d(enc[2], 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU())
        self.block2 = nn.Sequential(separable(48 + c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, feats):
        return self.block2(torch.cat([self.up(self.aspp(feats[-1])), self.block1(feats[2])], dim=1))


def deeplabv3plus():
    return SMPModel(ResNet34Encoder(output_stride=16), DeepLabV3PlusDecoder(), seg_head(256, 1, 1, 4))


# ---- smp PSPNet -------------------------------------------------------------------------------
class PSPBlock(nn.Module):
    def __init__(self, cin, cout, size):
        super().__init__()
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d((size, size)), conv2d_relu(cin, cout, 1, norm=size != 1))

    def forward(self, x):
        return F.interpolate(self.pool(x), size=x.shape[-2:], mode='bilinear', align_corners=True)


class PSPDecoder(nn.Module):
    def __init__(self, cin=128, cout=512, sizes=(1, 2, 3, 6)):
        super().__init__()
        self.blocks = nn.ModuleList(PSPBlock(cin, cin // len(sizes), s) for s in sizes)
        self.conv = conv2d_relu(cin * 2, cout, 1)
        self.dropout = nn.Dropout2d(p=0.2)

    def forward(self, feats):
        x = feats[-1]
        return self.dropout(self.conv(torch.cat([b(x) for b in self.blocks] + [x], dim=1)))


def pspnet():
    return SMPModel(ResNet34Encoder(depth=3), PSPDecoder(), seg_head(512, 1, 3, 8))


# ---- SegNet (vgg16_bn), FCN-8s and DeepLab-LargeFOV (vgg16), the original U-Net ----------------
class SegNet(nn.Module):
    STAGES = [[(512, 512)] * 3, [(512, 512), (512, 512), (512, 256)], [(256, 256), (256, 256), (256, 128)], [(128, 128), (128, 64)], [(64, 64)]]

    def __init__(self):
        super().__init__()
        self.features = vgg16_bn().features
        self.blocks = nn.ModuleList(nn.Sequential(*[nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
                                                    for i, o in s]) for s in self.STAGES)
        self.head = nn.Conv2d(64, 1, 3, padding=1)

    def forward(self, x):
        pools = []
        for m in self.features:
            if isinstance(m, nn.MaxPool2d):
                size = x.shape[-2:]
                x, idx = F.max_pool2d(x, 2, 2, return_indices=True)
                pools.append((idx, size))
            else:
                x = m(x)
        for block, (idx, size) in zip(self.blocks, reversed(pools)):
            x = block(F.max_unpool2d(x, idx, 2, 2, output_size=size))
        return self.head(x)


class FCN8s(nn.Module):
    def __init__(self, classes=1):
        super().__init__()
        self.features = vgg16().features
        self.fc6 = nn.Conv2d(512, 4096, 7, padding=3)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.drop6, self.drop7 = nn.Dropout(0.5), nn.Dropout(0.5)
        self.score_fr, self.score_pool4, self.score_pool3 = (nn.Conv2d(c, classes, 1) for c in (4096, 512, 256))
        up = lambda s: nn.ConvTranspose2d(classes, classes, 2 * s, stride=s, padding=s // 2, bias=False)
        self.upscore2, self.upscore_pool4, self.upscore8 = up(2), up(2), up(8)

    def forward(self, x):
        pools = []
        for m in self.features:
            x = m(x)
            if isinstance(m, nn.MaxPool2d):
                pools.append(x)
        h = self.drop6(F.relu(self.fc6(pools[4]), inplace=True))
        h = self.drop7(F.relu(self.fc7(h), inplace=True))
        h = self.upscore2(self.score_fr(h)) + self.score_pool4(pools[3])
        h = self.upscore_pool4(h) + self.score_pool3(pools[2])
        return self.upscore8(h)


class DeepLabV1(nn.Module):
    """DeepLab-LargeFOV: atrous vgg16 (3x3 pools with padding 1, pool4/pool5 stride 1, conv5 rate 2)."""

    def __init__(self):
        super().__init__()
        self.features = vgg16().features
        pool = 0
        for i, m in enumerate(self.features):
            if isinstance(m, nn.MaxPool2d):
                self.features[i] = nn.MaxPool2d(3, stride=2 if pool < 3 else 1, padding=1)
                pool += 1
            elif pool == 4 and isinstance(m, nn.Conv2d):
                m.dilation, m.padding = (2, 2), (2, 2)
        self.fc6 = nn.Conv2d(512, 1024, 3, padding=12, dilation=12)
        self.fc7 = nn.Conv2d(1024, 1024, 1)
        self.drop6, self.drop7 = nn.Dropout(0.5), nn.Dropout(0.5)
        self.head = seg_head(1024, 1, 1, 8)

    def forward(self, x):
        h = self.drop6(F.relu(self.fc6(self.features(x)), inplace=True))
        return self.head(self.drop7(F.relu(self.fc7(h), inplace=True)))


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = double_conv(cin, cout)

    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNetOriginal(nn.Module):
    """Ronneberger et al. 2015 with padded convs (milesial/Pytorch-UNet, bilinear=False, no BatchNorm), dropout 0.5 on the two deepest levels."""

    def __init__(self, c=(64, 128, 256, 512, 1024)):
        super().__init__()
        self.inc = double_conv(3, c[0])
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), double_conv(c[i], c[i + 1])) for i in range(4))
        self.ups = nn.ModuleList(Up(c[i + 1], c[i]) for i in reversed(range(4)))
        self.dropout = nn.Dropout(0.5)
        self.outc = nn.Conv2d(c[0], 1, 1)

    def forward(self, x):
        xs = [self.inc(x)]
        for i, down in enumerate(self.downs):
            xs.append(self.dropout(down(xs[-1])) if i >= 2 else down(xs[-1]))
        x = xs[4]
        for up, skip in zip(self.ups, reversed(xs[:4])):
            x = up(x, skip)
        return self.outc(x)


class Out(nn.Sequential):
    """torchvision's segmentation models return {'out': ...}."""

    def forward(self, x):
        return self[0](x)['out']


TV = dict(weights=None, weights_backbone=None, num_classes=1, aux_loss=False)
MODELS = {'unet': unet, 'fcn': lambda: Out(fcn_resnet50(**TV)), 'deeplabv3': lambda: Out(deeplabv3_resnet50(**TV)),
          'deeplabv3plus': deeplabv3plus, 'pspnet': pspnet, 'fpn': fpn, 'segnet': SegNet, 'fcn8s': FCN8s,
          'unet-original': UNetOriginal, 'deeplabv1': DeepLabV1}


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
