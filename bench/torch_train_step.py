"""PyTorch side of train-step.mjs: one process per (mode, threads), printing one JSON line with
the step times (ms) and the peak RSS. Same functional ResNet-style net as the JS side."""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

mode, threads, warmup, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
CL = torch.channels_last if mode == 'channels_last' else torch.contiguous_format


def conv_w(cout, cin, k):
    return (torch.randn(cout, cin, k, k) * (2 / (cin * k * k)) ** 0.5).to(memory_format=CL).requires_grad_()


def bn(c):
    return [torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True), torch.zeros(c), torch.ones(c)]


P = {'stem': conv_w(32, 3, 3), 'stem_bn': bn(32)}
for name, cin, cout in (('b1', 32, 32), ('b2', 32, 64), ('b3', 64, 64)):
    P[name] = [conv_w(cout, cin, 3), bn(cout), conv_w(cout, cout, 3), bn(cout)]
    if cin != cout:
        P[name] += [conv_w(cout, cin, 1), bn(cout)]
P['head'] = conv_w(1, 64, 1)
params = [t for v in P.values() for t in (v if isinstance(v, list) else [v]) for t in (t if isinstance(t, list) else [t]) if t.requires_grad]


def bnf(x, b):
    return F.batch_norm(x, b[2], b[3], b[0], b[1], training=True)


def block(x, b):
    stride = 2 if len(b) > 4 else 1
    h = F.relu(bnf(F.conv2d(x, b[0], stride=stride, padding=1), b[1]))
    h = bnf(F.conv2d(h, b[2], padding=1), b[3])
    skip = bnf(F.conv2d(x, b[4], stride=2), b[5]) if len(b) > 4 else x
    return F.relu(h + skip)


def forward(x):
    h = F.relu(bnf(F.conv2d(x, P['stem'], stride=2, padding=1), P['stem_bn']))
    for name in ('b1', 'b2', 'b3'):
        h = block(h, P[name])
    return F.interpolate(F.conv2d(h, P['head']), scale_factor=4, mode='bilinear', align_corners=False)


x = torch.randn(4, 3, 128, 128).to(memory_format=CL)
y = (torch.rand(4, 1, 128, 128) > 0.5).float()


def step():
    if mode == 'bf16':
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = forward(x)
    else:
        out = forward(x)
    loss = F.binary_cross_entropy_with_logits(out.float(), y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=0.01)
            p.grad = None
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
