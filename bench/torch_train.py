#!/usr/bin/python3
"""PyTorch's side of bench/train.mjs: a training loop with torch.utils.data.DataLoader on the same
tiles as segkit's run, read from the folder segkit's `data convert` wrote (the tiles' JPEG bytes
as they are, the masks segkit rasterised, as PNG), so both train on the same labels. Per sample:
PIL decode, random horizontal and vertical flips and a random crop in numpy (what albumentations'
HorizontalFlip, VerticalFlip and RandomCrop do), ImageNet normalisation; shuffled batches.
Model and loss as bench/torch_fidelity.py builds them (smp's Unet resnet18 and DiceLoss('binary')
from its source, or the rewrite), AdamW lr 1e-3. Each batch is timed from asking the loader for it
to the end of its optimizer step, and the wait for the loader is kept apart, as segkit's Trainer
counts them. Allocator tuning, when wanted, comes from the environment (MALLOC_MMAP_THRESHOLD_).
Usage: /usr/bin/python3 bench/torch_train.py <folder> <tiles.json> <epochs> <workers> <threads> <batch> <crop>
Prints one JSON line: each step's seconds and loader wait, the last epoch's mean loss, the peak RSS."""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from torch_common import info
from torch_fidelity import smp_model_and_loss, smp_source

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


class TileFolder(Dataset):
    def __init__(self, root, names, crop):
        self.root = root
        files = {os.path.splitext(f)[0]: f for f in os.listdir(os.path.join(root, 'images'))}
        # segkit's convert names a region's tile `<region>__<stem>`.
        self.stems = [n.replace('/', '__') for n in names]
        self.images = [files[s] for s in self.stems]
        self.crop = crop

    def __len__(self):
        return len(self.stems)

    def __getitem__(self, i):
        image = np.asarray(Image.open(os.path.join(self.root, 'images', self.images[i])).convert('RGB'))
        mask = np.asarray(Image.open(os.path.join(self.root, 'masks', self.stems[i] + '.png')))
        rng = np.random
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            image, mask = image[::-1], mask[::-1]
        h, w = mask.shape
        y = rng.randint(0, h - self.crop + 1)
        x = rng.randint(0, w - self.crop + 1)
        image = image[y:y + self.crop, x:x + self.crop].transpose(2, 0, 1).astype(np.float32) / 255
        image = (image - MEAN) / STD
        mask = mask[y:y + self.crop, x:x + self.crop]
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(mask.astype(np.int64))


def main():
    folder, tiles_file = sys.argv[1], sys.argv[2]
    epochs, workers, threads, batch, crop = (int(v) for v in sys.argv[3:8])
    with open(tiles_file) as f:
        names = json.load(f)['tiles']
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    np.random.seed(0)
    loader = DataLoader(TileFolder(folder, names, crop), batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    model, loss_fn, source = smp_model_and_loss(smp_source(os.path.dirname(os.path.abspath(tiles_file))))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    steps = []
    for _ in range(epochs):
        model.train()
        epoch_losses = []
        it = iter(loader)
        while True:
            t0 = time.perf_counter()
            try:
                image, mask = next(it)
            except StopIteration:
                break
            t1 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(image), mask.unsqueeze(1).float())
            epoch_losses.append(loss.item())
            loss.backward()
            opt.step()
            t2 = time.perf_counter()
            steps.append({'images': image.shape[0], 'seconds': t2 - t0, 'dataSeconds': t1 - t0})
    print(json.dumps({'info': info(), 'source': source, 'steps': steps, 'lastLoss': sum(epoch_losses) / len(epoch_losses),
                      'maxRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'mmapThreshold': os.environ.get('MALLOC_MMAP_THRESHOLD_')}))


if __name__ == '__main__':
    main()
