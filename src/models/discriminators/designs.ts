// The adversarial networks of Luc et al. 2016 as data: layer lists that discriminator.ts turns
// into modules. A number is a ReLU'd convolution with that many output channels, 'pool' a 2x2
// max pooling; the last entry of a trunk is the one-channel score map, without ReLU.

export type LayerSpec = { out: number; kernel: number } | 'pool';

export interface DiscriminatorDesign {
  /** Where the design comes from, one line. */
  paper: string;
  /** Convolutions on the image alone, joined with the label branch (basic and scaling inputs only). */
  imageBranch?: LayerSpec[];
  /** Convolutions on the label map (or, for 'product', on the image-times-class maps) before the join. */
  labelBranch?: LayerSpec[];
  /** On the joined features (or the encoded input itself when there are no branches). */
  trunk: LayerSpec[];
}

const c = (out: number, kernel: number): LayerSpec => ({ out, kernel });

export const DESIGNS: Record<string, DiscriminatorDesign> = {
  // Luc et al. 2016, Fig. 2: the network for the low-resolution Stanford Background label maps,
  // image and label map in two branches (16 then 64 channels, and 64) joined into 128.
  stanford: {
    paper: 'Luc et al. 2016, Fig. 2 (Stanford Background)',
    imageBranch: [c(16, 5), c(64, 5)],
    labelBranch: [c(64, 5)],
    trunk: [c(128, 3), 'pool', c(256, 3), 'pool', c(512, 3), c(1, 3)],
  },
  // Luc et al. 2016, Sec. 4.2 (Pascal VOC): fully convolutional, 3x3 everywhere, a 34-pixel field of view.
  largefov: {
    paper: 'Luc et al. 2016, Sec. 4.2 LargeFOV (Pascal VOC)',
    trunk: [c(96, 3), c(128, 3), c(128, 3), 'pool', c(256, 3), c(256, 3), 'pool', c(512, 3), c(1, 3)],
  },
  // The same with every second convolution 1x1: an 18-pixel field of view.
  smallfov: {
    paper: 'Luc et al. 2016, Sec. 4.2 SmallFOV (Pascal VOC)',
    trunk: [c(96, 3), c(128, 1), 'pool', c(256, 3), c(256, 1), 'pool', c(512, 3), c(1, 1)],
  },
};
