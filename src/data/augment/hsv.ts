// Colour-space conversions on image tensors [N, 3, H, W] in [0, 1], as torchvision's tensor
// functional (_rgb2hsv, _hsv2rgb, rgb_to_grayscale) defines them, for ColorJitter's hue and
// saturation and for HueSaturationValue.
import { torch, type Tensor } from '../../torch/index.js';
import { invalidParameterError } from '../../validate.js';

function checkRgb(where: string, image: Tensor): void {
  const s = image.shape;
  if (s.length !== 4 || s[1] !== 3) throw invalidParameterError(where, 'image', 'a tensor [N, 3, H, W]', `a tensor [${s.join(', ')}]`);
}

/** Luma [N, 1, H, W] = 0.2989 R + 0.587 G + 0.114 B (torchvision's rgb_to_grayscale weights). */
export function rgbToGrayscale(image: Tensor): Tensor {
  checkRgb('rgbToGrayscale', image);
  return torch.tidy(() => {
    const [r, g, b] = image.split(1, 1) as [Tensor, Tensor, Tensor];
    return r.mul(0.2989).add(g.mul(0.587)).add(b.mul(0.114));
  });
}

/** RGB -> HSV, all three in [0, 1] (hue in turns), torchvision's _rgb2hsv. */
export function rgbToHsv(image: Tensor): Tensor {
  checkRgb('rgbToHsv', image);
  return torch.tidy(() => {
    const [r, g, b] = image.split(1, 1) as [Tensor, Tensor, Tensor];
    const maxc = image.amax({ dim: 1, keepdim: true });
    const minc = image.amin({ dim: 1, keepdim: true });
    const eqc = maxc.eq(minc);
    const cr = maxc.sub(minc);
    const s = cr.div(maxc.where(eqc.logicalNot(), 1));
    const divisor = cr.where(eqc.logicalNot(), 1);
    const rc = maxc.sub(r).div(divisor);
    const gc = maxc.sub(g).div(divisor);
    const bc = maxc.sub(b).div(divisor);
    const isR = maxc.eq(r);
    const isG = maxc.eq(g).logicalAnd(isR.logicalNot());
    const isB = maxc.ne(g).logicalAnd(isR.logicalNot());
    const hr = bc.sub(gc).mul(isR);
    const hg = rc.sub(bc).add(2).mul(isG);
    const hb = gc.sub(rc).add(4).mul(isB);
    const h = hr.add(hg).add(hb).div(6).add(1).fmod(1);
    return torch.cat([h, s, maxc], 1);
  });
}

/**
 * HSV -> RGB, the inverse of rgbToHsv. Channel c is v (1 - s clamp(min(k, 4 - k), 0, 1)) with
 * k = (n + 6 h) mod 6 and n = 5, 3, 1 for R, G, B: the same piecewise-linear map as
 * torchvision's _hsv2rgb sector table, in 8 batched ops instead of 18 stacked planes.
 */
export function hsvToRgb(image: Tensor): Tensor {
  checkRgb('hsvToRgb', image);
  return torch.tidy(() => {
    const [h, s, v] = image.split(1, 1) as [Tensor, Tensor, Tensor];
    const k = h
      .mul(6)
      .add(torch.tensor([5, 3, 1], { shape: [1, 3, 1, 1], dtype: image.dtype }))
      .remainder(6);
    const t = k.minimum(k.rsub(4)).clamp(0, 1);
    return v.mul(s.mul(t).rsub(1));
  });
}
