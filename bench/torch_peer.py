#!/usr/bin/python3
"""PyTorch peer for sasa's benchmarks (run with Debian's /usr/bin/python3, torch CPU).

  /usr/bin/python3 bench/torch_peer.py conv --shape 8,56,56,64 --filters 64 --kernel 3 [--stride 1] [--backward] [--json]
  /usr/bin/python3 bench/torch_peer.py matmul --size 1024 [--json]

Shapes are NHWC like ours; conv runs in channels_last, float32, padding k//2, no bias.
Reports the median ms of --runs timed runs after a warm-up of at least --warmup runs and
--warmup-ms milliseconds (the same protocol as `sasa bench`), and peak RSS MB.
`--check` (matmul) also compares one product against a float64 reference.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="bench", required=True)
    for name in ("conv", "matmul"):
        s = sub.add_parser(name)
        s.add_argument("--runs", type=int, default=10)
        s.add_argument("--warmup", type=int, default=3)
        s.add_argument("--warmup-ms", type=float, default=1000.0)
        s.add_argument("--threads", type=int, default=2)
        s.add_argument("--json", action="store_true")
        if name == "conv":
            s.add_argument("--shape", default="8,56,56,64", help="N,H,W,C")
            s.add_argument("--filters", type=int, default=64)
            s.add_argument("--kernel", type=int, default=3)
            s.add_argument("--stride", type=int, default=1)
            s.add_argument("--backward", action="store_true")
        else:
            s.add_argument("--size", type=int, default=1024)
            s.add_argument("--check", action="store_true", help="compare against a float64 reference")
    a = p.parse_args()
    if a.runs < 1 or a.warmup < 0 or a.threads < 1:
        p.error("--runs and --threads must be >= 1, --warmup >= 0")
    return a


def median_ms(step, runs, warmup, warmup_ms):
    start = time.perf_counter()
    done = 0
    while done < warmup or (time.perf_counter() - start) * 1e3 < warmup_ms:
        step()
        done += 1
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench_conv(a):
    n, h, w, c = (int(v) for v in a.shape.split(","))
    cl = torch.channels_last
    conv = torch.nn.Conv2d(c, a.filters, a.kernel, stride=a.stride, padding=a.kernel // 2, bias=False)
    conv = conv.to(memory_format=cl)
    x = torch.randn(n, c, h, w).to(memory_format=cl)
    if not a.backward:
        def step():
            with torch.no_grad():
                conv(x)
    else:
        x.requires_grad_(True)
        with torch.no_grad():
            grad_out = torch.randn_like(conv(x)).to(memory_format=cl)

        def step():
            x.grad = None
            conv.weight.grad = None
            conv(x).backward(grad_out)
    ms = median_ms(step, a.runs, a.warmup, a.warmup_ms)
    return {"shape": [n, h, w, c], "filters": a.filters, "kernel": a.kernel, "stride": a.stride,
            "backward": a.backward, "median_ms": ms}


def bench_matmul(a):
    s = a.size
    x, y = torch.randn(s, s), torch.randn(s, s)
    out = {"size": s}
    if a.check:
        ref = x.double() @ y.double()
        err = ((x @ y).double() - ref).abs().max().item()
        out["max_abs_err"] = err
        out["check_ok"] = err <= 1e-3 * ref.abs().max().item()
    out["median_ms"] = median_ms(lambda: torch.mm(x, y), a.runs, a.warmup, a.warmup_ms)
    return out


def blas_libs():
    """The BLAS/LAPACK/oneDNN libraries actually mapped (Debian's torch uses whatever libblas.so.3 resolves to)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if ".so" in line}
    return sorted(p for p in paths if any(k in os.path.basename(p) for k in ("blas", "lapack", "dnnl", "mkl", "blis")))


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    res = {"bench": a.bench, "impl": "pytorch"}
    res.update(bench_conv(a) if a.bench == "conv" else bench_matmul(a))
    res.update({
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs": a.runs, "warmup": a.warmup, "warmup_ms": a.warmup_ms, "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": next((kv.split("=", 1)[1] for kv in torch.__config__.show().replace(",", "\n").split()
                      if kv.startswith("BLAS_INFO=")), "unknown"),
        "blas_libs": blas_libs(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    })
    if a.json:
        print(json.dumps(res), flush=True)
    else:
        what = (f"conv {res['shape']} {a.kernel}x{a.kernel} ->{a.filters} s{a.stride}"
                f"{' fwd+bwd' if a.backward else ' fwd'}" if a.bench == "conv" else f"matmul {a.size}^3")
        print(f"pytorch {res['torch']} {what}: median {res['median_ms']:.2f} ms over {a.runs} runs, "
              f"peak RSS {res['peak_rss_mb']:.0f} MB, {res['threads']} threads")
    if res.get("check_ok") is False:
        sys.exit(f"matmul check failed: max abs err {res['max_abs_err']}")


if __name__ == "__main__":
    main()
