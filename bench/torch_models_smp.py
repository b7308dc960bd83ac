"""smp's architectures (segmentation_models_pytorch 0.5, commit 5006616) rewritten module for
module on torchvision's resnet34, with smp's module names (so segkit's state-dict keys match):
Unet, FPN, DeepLabV3Plus, PSPNet, Linknet, UnetPlusPlus, MAnet and PAN. Used by torch_models.py."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, ResNet


# ---- smp's building blocks ------------------------------------------------------------------
def dilate(stage, rate):
    """smp's replace_strides_with_dilation."""
    for m in stage.modules():
        if isinstance(m, nn.Conv2d):
            m.stride = (1, 1)
            m.dilation = (rate, rate)
            kh, kw = m.kernel_size
            m.padding = ((kh // 2) * rate, (kw // 2) * rate)


class ResNetEncoder(ResNet):
    """smp's ResNetEncoder: torchvision's ResNet without fc/avgpool, depth+1 features (resnet34 by default)."""

    def __init__(self, block=BasicBlock, layers=(3, 4, 6, 3), depth=5, output_stride=32):
        super().__init__(block, list(layers))
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
    return SMPModel(ResNetEncoder(), UnetDecoder(), seg_head(16, 1, 3))


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
    return SMPModel(ResNetEncoder(), FPNDecoder(), seg_head(128, 1, 1, 4))


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
    return SMPModel(ResNetEncoder(output_stride=16), DeepLabV3PlusDecoder(), seg_head(256, 1, 1, 4))


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
    return SMPModel(ResNetEncoder(depth=3), PSPDecoder(), seg_head(512, 1, 3, 8))


# ---- smp Linknet ------------------------------------------------------------------------------
class LinknetBlock(nn.Module):
    """1x1 conv to in/4, 4x4 transposed conv (x2), 1x1 conv to out, each with BatchNorm and ReLU; + skip."""

    def __init__(self, cin, cout):
        super().__init__()
        mid = cin // 4
        self.block = nn.Sequential(conv2d_relu(cin, mid, 1),
                                   nn.Sequential(nn.ConvTranspose2d(mid, mid, 4, stride=2, padding=1), nn.BatchNorm2d(mid), nn.ReLU(inplace=True)),
                                   conv2d_relu(mid, cout, 1))

    def forward(self, x, skip=None):
        x = self.block(x)
        return x + skip if skip is not None else x


class LinknetDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), prefinal=32):
        super().__init__()
        ch = list(enc[1:])[::-1] + [prefinal]
        self.blocks = nn.ModuleList(LinknetBlock(ch[i], ch[i + 1]) for i in range(len(ch) - 1))

    def forward(self, feats):
        feats = feats[1:][::-1]
        x = feats[0]
        for i, block in enumerate(self.blocks):
            x = block(x, feats[i + 1] if i + 1 < len(feats) else None)
        return x


def linknet():
    return SMPModel(ResNetEncoder(), LinknetDecoder(), seg_head(32, 1, 1))


# ---- smp UnetPlusPlus ---------------------------------------------------------------------------
class Up2Block(UnetBlock):
    """smp's UNet++ (and MAnet's plain) decoder block: nearest x2, concatenate the skip, two Conv2dReLU."""

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = self.attention1(torch.cat([x, skip], dim=1))
        return self.attention2(self.conv2(self.conv1(x)))


class UnetPlusPlusDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), dec=(256, 128, 64, 32, 16)):
        super().__init__()
        enc = list(enc[1:])[::-1]
        ins, skips, outs = [enc[0]] + list(dec[:-1]), enc[1:] + [0], list(dec)
        self.center = nn.Identity()
        blocks = {}
        for layer in range(len(ins) - 1):
            for d in range(layer + 1):
                if d == 0:
                    blocks[f'x_0_{layer}'] = Up2Block(ins[layer], skips[layer] * (layer + 1), outs[layer])
                else:
                    blocks[f'x_{d}_{layer}'] = Up2Block(skips[layer - 1], skips[layer] * (layer + 1 - d), skips[layer])
        self.depth = len(ins) - 1
        blocks[f'x_0_{self.depth}'] = Up2Block(ins[-1], 0, outs[-1])
        self.blocks = nn.ModuleDict(blocks)

    def forward(self, feats):
        f = feats[1:][::-1]
        dense = {}
        for layer in range(self.depth):
            for d in range(self.depth - layer):
                if layer == 0:
                    dense[f'x_{d}_{d}'] = self.blocks[f'x_{d}_{d}'](f[d], f[d + 1])
                else:
                    l = d + layer
                    cat = [dense[f'x_{i}_{l}'] for i in range(d + 1, l + 1)] + [f[l + 1]]
                    dense[f'x_{d}_{l}'] = self.blocks[f'x_{d}_{l}'](dense[f'x_{d}_{l - 1}'], torch.cat(cat, dim=1))
        return self.blocks[f'x_0_{self.depth}'](dense[f'x_0_{self.depth - 1}'])


def unetplusplus():
    return SMPModel(ResNetEncoder(), UnetPlusPlusDecoder(), seg_head(16, 1, 3))


# ---- smp MAnet --------------------------------------------------------------------------------
class PABBlock(nn.Module):
    """Position-wise attention on the deepest feature (softmax over the whole HW x HW map, as smp)."""

    def __init__(self, cin, pab=64):
        super().__init__()
        self.in_channels = cin
        self.top_conv, self.center_conv = nn.Conv2d(cin, pab, 1), nn.Conv2d(cin, pab, 1)
        self.bottom_conv, self.out_conv = nn.Conv2d(cin, cin, 3, padding=1), nn.Conv2d(cin, cin, 3, padding=1)

    def forward(self, x):
        b, _, h, w = x.shape
        top = self.top_conv(x).flatten(2)
        center = self.center_conv(x).flatten(2).transpose(1, 2)
        bottom = self.bottom_conv(x).flatten(2).transpose(1, 2)
        sp = F.softmax(torch.matmul(center, top).view(b, -1), dim=1).view(b, h * w, h * w)
        sp = torch.matmul(sp, bottom).reshape(b, self.in_channels, h, w)
        return self.out_conv(x + sp)


def se_branch(c, reduced):
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, reduced, 1), nn.ReLU(inplace=True), nn.Conv2d(reduced, c, 1), nn.Sigmoid())


class MFABBlock(nn.Module):
    def __init__(self, cin, skip, cout, reduction=16):
        super().__init__()
        self.hl_conv = nn.Sequential(conv2d_relu(cin, cin, 3, 1), conv2d_relu(cin, skip, 1))
        reduced = max(1, skip // reduction)
        self.SE_ll, self.SE_hl = se_branch(skip, reduced), se_branch(skip, reduced)
        self.conv1 = conv2d_relu(2 * skip, cout, 3, 1)
        self.conv2 = conv2d_relu(cout, cout, 3, 1)

    def forward(self, x, skip=None):
        x = F.interpolate(self.hl_conv(x), scale_factor=2, mode='nearest')
        attention = self.SE_hl(x)
        if skip is not None:
            attention = attention + self.SE_ll(skip)
            x = torch.cat([x * attention, skip], dim=1)
        return self.conv2(self.conv1(x))


class MAnetDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), dec=(256, 128, 64, 32, 16), pab=64):
        super().__init__()
        enc = list(enc[1:])[::-1]
        ins, skips = [enc[0]] + list(dec[:-1]), enc[1:] + [0]
        self.center = PABBlock(enc[0], pab)
        self.blocks = nn.ModuleList(MFABBlock(i, s, o) if s else Up2Block(i, s, o) for i, s, o in zip(ins, skips, dec))

    def forward(self, feats):
        f = feats[1:][::-1]
        x = self.center(f[0])
        for i, block in enumerate(self.blocks):
            x = block(x, f[i + 1] if i + 1 < len(f) else None)
        return x


def manet():
    return SMPModel(ResNetEncoder(), MAnetDecoder(), seg_head(16, 1, 3))


# ---- smp PAN (encoder output stride 16) ---------------------------------------------------------
class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k, padding=0, add_relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=padding)
        self.activation = nn.ReLU(inplace=True)
        self.bn = nn.BatchNorm2d(cout)
        self.add_relu = add_relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.activation(x) if self.add_relu else x


def up(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


class FPABlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.branch1 = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvBnRelu(cin, cout, 1))
        self.mid = nn.Sequential(ConvBnRelu(cin, cout, 1))
        self.down1 = nn.Sequential(nn.MaxPool2d(2, 2), ConvBnRelu(cin, 1, 7, 3))
        self.down2 = nn.Sequential(nn.MaxPool2d(2, 2), ConvBnRelu(1, 1, 5, 2))
        self.down3 = nn.Sequential(nn.MaxPool2d(2, 2), ConvBnRelu(1, 1, 3, 1), ConvBnRelu(1, 1, 3, 1))
        self.conv2 = ConvBnRelu(1, 1, 5, 2)
        self.conv1 = ConvBnRelu(1, 1, 7, 3)

    def forward(self, x):
        h, w = x.shape[-2:]
        b1 = up(self.branch1(x), (h, w))
        mid = self.mid(x)
        x1 = self.down1(x)
        x2 = self.down2(x1)
        x3 = up(self.down3(x2), (h // 4, w // 4))
        y = up(self.conv2(x2) + x3, (h // 2, w // 2))
        y = up(y + self.conv1(x1), (h, w))
        return y * mid + b1


class GAUBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvBnRelu(cout, cout, 1, add_relu=False), nn.Sigmoid())
        self.conv2 = ConvBnRelu(cin, cout, 3, 1)

    def forward(self, x, y):
        return up(y, x.shape[-2:]) + self.conv2(x) * self.conv1(y)


class PANDecoder(nn.Module):
    def __init__(self, enc=(3, 64, 64, 128, 256, 512), c=32):
        super().__init__()
        self.fpa = FPABlock(enc[5], c)
        self.gau3, self.gau2, self.gau1 = GAUBlock(enc[4], c), GAUBlock(enc[3], c), GAUBlock(enc[2], c)

    def forward(self, feats):
        x = self.fpa(feats[5])
        return self.gau1(feats[2], self.gau2(feats[3], self.gau3(feats[4], x)))


def pan():
    return SMPModel(ResNetEncoder(output_stride=16), PANDecoder(), seg_head(32, 1, 3, 4))
