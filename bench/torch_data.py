#!/usr/bin/python3
"""PyTorch's side of bench/data.mjs: a folder dataset (images/*.jpg, masks/*.png) decoded with PIL,
flipped and cropped per sample in numpy (what albumentations' HorizontalFlip, VerticalFlip and
RandomCrop do), batched by torch.utils.data.DataLoader with worker processes.
Usage: /usr/bin/python3 bench/torch_data.py <folder> <epochs> <workers> <batch> <crop>
Prints one JSON line: {"images": n, "seconds": s}."""
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class FolderDataset(Dataset):
    def __init__(self, root, crop):
        self.root = root
        self.names = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(root, 'masks')))
        self.images = {os.path.splitext(f)[0]: f for f in os.listdir(os.path.join(root, 'images'))}
        self.crop = crop

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        image = np.asarray(Image.open(os.path.join(self.root, 'images', self.images[name])).convert('RGB'))
        mask = np.asarray(Image.open(os.path.join(self.root, 'masks', name + '.png')))
        rng = np.random
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            image, mask = image[::-1], mask[::-1]
        h, w = mask.shape
        y = rng.randint(0, h - self.crop + 1)
        x = rng.randint(0, w - self.crop + 1)
        image = image[y:y + self.crop, x:x + self.crop]
        mask = mask[y:y + self.crop, x:x + self.crop]
        image = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255)
        return image, torch.from_numpy(mask.astype(np.int64))


def main():
    root, epochs, workers, batch, crop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.manual_seed(0)
    ds = FolderDataset(root, crop)
    loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    for _ in loader:  # warm-up epoch: worker start, file cache
        pass
    n = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for image, mask in loader:
            n += image.shape[0]
    seconds = time.perf_counter() - t0
    print(json.dumps({'images': n, 'seconds': seconds, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
