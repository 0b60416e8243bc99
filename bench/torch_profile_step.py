"""Where PyTorch's ResNet-26 training step (torch_peer.py's model, channels_last, batch 8, 224x224,
SGD momentum 0.9) spends its time: torch.profiler over 3 steps after 3 warm-ups, by operator.
    OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_profile_step.py
Divide the table's times by 3 for one step."""
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
model = torch_peer.ResNet26().to(memory_format=torch.channels_last).train()
x = torch.randn(8, 3, 224, 224).to(memory_format=torch.channels_last)
labels = torch.arange(8) * 7919 % 1000
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def step():
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), labels).backward()
    opt.step()


for _ in range(3):
    step()
times = []
for _ in range(5):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(f"step: {sorted(times)[2] * 1e3:.0f} ms (median of 5)")
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(3):
        step()
print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
