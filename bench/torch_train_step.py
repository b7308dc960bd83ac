"""PyTorch side of train-step.mjs: one process per (mode, threads), printing one JSON line with
the step times (ms), peak RSS and page faults. The same small ResNet-style net as the JS side,
in torch.nn modules, trained with SGD + momentum."""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

mode, threads, warmup, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.layers = nn.Sequential(BasicBlock(32, 32, 1), BasicBlock(32, 64, 2), BasicBlock(64, 64, 1))
        self.head = nn.Conv2d(64, 1, 1)

    def forward(self, x):
        return F.interpolate(self.head(self.layers(self.stem(x))), scale_factor=4, mode='bilinear', align_corners=False)


model = Net()
x = torch.randn(4, 3, 128, 128)
y = (torch.rand(4, 1, 128, 128) > 0.5).float()
if mode == 'channels_last':
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def step():
    opt.zero_grad(set_to_none=True)
    if mode == 'bf16':
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = model(x)
    else:
        out = model(x)
    loss = F.binary_cross_entropy_with_logits(out.float(), y)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(warmup):
    step()
times = []
faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(iters):
    t0 = time.perf_counter_ns()
    step()
    times.append((time.perf_counter_ns() - t0) / 1e6)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({'ms': times, 'maxRssMb': usage.ru_maxrss / 1024, 'faultsPerStep': (usage.ru_minflt - faults0) / iters}))
