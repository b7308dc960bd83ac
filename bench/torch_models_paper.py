"""The paper-era architectures as segkit builds them, in plain torch.nn on torchvision's VGG16 /
ResNet: SegNet (vgg16_bn), FCN-32s/16s/8s and DeepLab-LargeFOV (vgg16), the original U-Net
(milesial/Pytorch-UNet without BatchNorm), DeepLab v2 (resnet101, ASPP-L) and RefineNet. FCN,
DeepLab v2 and RefineNet use segkit's module names, so its state-dict keys match. Used by
torch_models.py."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import vgg16, vgg16_bn
from torchvision.models.resnet import Bottleneck

from torch_models_smp import ResNetEncoder, SMPModel, seg_head


# ---- SegNet (vgg16_bn), FCN-32s/16s/8s and DeepLab-LargeFOV (vgg16), the original U-Net -------
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


class FCNDecoder(nn.Module):
    """fc6/fc7 as convolutions, score_fr, 2x deconvolutions fused with score_pool4 (16s, 8s) and score_pool3 (8s), final deconvolution."""

    def __init__(self, stride, classes=1):
        super().__init__()
        self.stride = stride
        self.fc6 = nn.Conv2d(512, 4096, 7, padding=3)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.drop6, self.drop7 = nn.Dropout(0.5), nn.Dropout(0.5)
        self.score_fr = nn.Conv2d(4096, classes, 1)
        up = lambda s: nn.ConvTranspose2d(classes, classes, 2 * s, stride=s, padding=s // 2, bias=False)
        if stride <= 16:
            self.upscore2, self.score_pool4 = up(2), nn.Conv2d(512, classes, 1)
        if stride == 8:
            self.upscore_pool4, self.score_pool3 = up(2), nn.Conv2d(256, classes, 1)
        self.last = 'upscore' if stride == 32 else f'upscore{stride}'
        self.add_module(self.last, up(stride))

    def forward(self, pools):
        h = self.drop6(F.relu(self.fc6(pools[4]), inplace=True))
        h = self.score_fr(self.drop7(F.relu(self.fc7(h), inplace=True)))
        if self.stride <= 16:
            h = self.upscore2(h) + self.score_pool4(pools[3])
        if self.stride == 8:
            h = self.upscore_pool4(h) + self.score_pool3(pools[2])
        return getattr(self, self.last)(h)


class FCN(nn.Module):
    """FCN-32s/16s/8s on vgg16 (segkit's keys: encoder.features.N, decoder.<Caffe name>); skips from the pool outputs."""

    def __init__(self, stride):
        super().__init__()
        self.encoder = vgg16()
        del self.encoder.avgpool, self.encoder.classifier
        self.decoder = FCNDecoder(stride)

    def forward(self, x):
        pools = []
        for m in self.encoder.features:
            x = m(x)
            if isinstance(m, nn.MaxPool2d):
                pools.append(x)
        return self.decoder(pools)


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


# ---- DeepLab v2 (resnet101 at output stride 8, ASPP-L) ------------------------------------------
class ASPPv2(nn.Module):
    """Parallel 3x3 atrous convs straight to the classes, scores summed (c0..c3)."""

    def __init__(self, cin, classes=1, rates=(6, 12, 18, 24)):
        super().__init__()
        for i, r in enumerate(rates):
            self.add_module(f'c{i}', nn.Conv2d(cin, classes, 3, padding=r, dilation=r))

    def forward(self, x):
        convs = list(self.children())
        out = convs[0](x)
        for conv in convs[1:]:
            out = out + conv(x)
        return out


class DeepLabV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ResNetEncoder(Bottleneck, (3, 4, 23, 3), output_stride=8)
        self.decoder = ASPPv2(2048)

    def forward(self, x):
        return F.interpolate(self.decoder(self.encoder(x)[-1]), size=x.shape[-2:], mode='bilinear', align_corners=True)


# ---- RefineNet (Lin et al. 2017; segkit's layout and the authors' layer choices) ----------------
class RCU(nn.Module):
    """Residual conv unit: ReLU, 3x3 conv (bias), ReLU, 3x3 conv (no bias), + input."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(F.relu(x)), inplace=True)) + x


def rcu_chain(c, n):
    return nn.Sequential(*[RCU(c) for _ in range(n)])


class MultiResolutionFusion(nn.Module):
    def __init__(self, paths):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(c, min(paths), 3, padding=1, bias=False) for c in paths) if len(paths) > 1 else None

    def forward(self, xs):
        if self.convs is None:
            return xs[0]
        size = (max(x.shape[2] for x in xs), max(x.shape[3] for x in xs))
        out = None
        for conv, x in zip(self.convs, xs):
            y = conv(x)
            if y.shape[-2:] != size:
                y = F.interpolate(y, size=size, mode='bilinear', align_corners=False)
            out = y if out is None else out + y
        return out


class ChainedResidualPooling(nn.Module):
    def __init__(self, c, blocks=4):
        super().__init__()
        self.pool = nn.MaxPool2d(5, stride=1, padding=2)
        self.convs = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(blocks))

    def forward(self, x):
        x = top = F.relu(x)
        for conv in self.convs:
            top = conv(self.pool(top))
            x = x + top
        return x


class RefineNetBlock(nn.Module):
    def __init__(self, enc_channels, c, previous=None, crp_blocks=4):
        super().__init__()
        self.input_conv = nn.Conv2d(enc_channels, c, 3, padding=1, bias=False)
        paths = [c] if previous is None else [previous, c]
        self.rcus = nn.ModuleList(rcu_chain(p, 2) for p in paths)
        self.fusion = MultiResolutionFusion(paths)
        self.crp = ChainedResidualPooling(min(paths), crp_blocks)
        self.output_rcu = RCU(min(paths))

    def forward(self, feature, previous=None):
        x = self.input_conv(feature)
        paths = [x] if previous is None else [previous, x]
        return self.output_rcu(self.crp(self.fusion([rcus(p) for rcus, p in zip(self.rcus, paths)])))


class RefineNetDecoder(nn.Module):
    """RefineNet-4 (512) on the stride-32 feature down to RefineNet-1 at stride 4, two RCUs, dropout."""

    def __init__(self, enc=(3, 64, 64, 128, 256, 512), channels=(512, 256, 256, 256), dropout=0.5):
        super().__init__()
        used = list(enc[2:])[::-1]
        self.wide = [c > 512 for c in used]
        self.encoder_dropout = nn.Dropout(dropout)
        self.names, previous = [], None
        for i, (e, c) in enumerate(zip(used, channels)):
            self.names.append(f'refinenet{len(used) - i}')
            self.add_module(self.names[-1], RefineNetBlock(e, c, previous))
            previous = c if previous is None else min(c, previous)
        self.output_rcus = rcu_chain(previous, 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, feats):
        x = None
        for name, wide, f in zip(self.names, self.wide, feats[2:][::-1]):
            x = getattr(self, name)(self.encoder_dropout(f) if wide else f, x)
        return self.dropout(self.output_rcus(x))


def refinenet():
    return SMPModel(ResNetEncoder(), RefineNetDecoder(), seg_head(256, 1, 3, 4))
