"""Timing and input loading shared by the Python peers of bench/peer_rounds.ts (detection benches)."""
import os
import statistics
import time

import numpy as np
import torch


def load(folder, name, dtype=np.float32):
    """A raw little-endian array written by the TypeScript side, as a tensor."""
    return torch.from_numpy(np.fromfile(os.path.join(folder, name), dtype=dtype))


def ms(fn, runs, warmup_s):
    """Median milliseconds of `runs` calls after `warmup_s` seconds of untimed calls."""
    start = time.perf_counter()
    while time.perf_counter() - start < warmup_s:
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
