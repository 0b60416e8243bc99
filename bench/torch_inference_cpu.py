"""PyTorch's side of bench/inference_cpu.mjs: torch_peer.py's ResNet-26 (channels_last, eval, no_grad), batch 1,
224x224, wall and CPU time (process time, all threads) medians of RUNS after 5 warm-ups.
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_inference_cpu.py [RUNS=15]"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer  # noqa: E402

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
model = torch_peer.ResNet26().to(memory_format=torch.channels_last).eval()
x = torch.randn(1, 3, 224, 224).to(memory_format=torch.channels_last)


def step():
    with torch.no_grad():
        model(x)


for _ in range(5):
    step()
wall, cpu = [], []
for _ in range(runs):
    c0, t0 = time.process_time(), time.perf_counter()
    step()
    wall.append((time.perf_counter() - t0) * 1e3)
    cpu.append((time.process_time() - c0) * 1e3)
wall.sort()
cpu.sort()
print('{"wall": %.1f, "minWall": %.1f, "cpu": %.1f}' % (wall[runs // 2], wall[0], cpu[runs // 2]))
