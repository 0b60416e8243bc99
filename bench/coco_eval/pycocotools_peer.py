#!/usr/bin/env python3
"""pycocotools' side of the COCO evaluation bench: times each stage of COCOeval(iouType='bbox') on
DIR/gt.json + DIR/dt.json and prints one JSON object: load (COCO(gt) + json.load of the detections),
loadRes (on the loaded list), evaluate, accumulate, summarize (s), the 12 stats, peak RSS (MB, getrusage).

  python3 bench/coco_eval/pycocotools_peer.py DIR
"""
import contextlib
import io
import json
import os
import resource
import sys
import time

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main():
    d = sys.argv[1]
    times = {}
    with contextlib.redirect_stdout(io.StringIO()):
        t = time.perf_counter()
        gt = COCO(os.path.join(d, 'gt.json'))
        with open(os.path.join(d, 'dt.json')) as f:
            dets = json.load(f)
        times['load'] = time.perf_counter() - t
        t = time.perf_counter()
        dt = gt.loadRes(dets)
        times['loadRes'] = time.perf_counter() - t
        ev = COCOeval(gt, dt, iouType='bbox')
        for stage in ('evaluate', 'accumulate', 'summarize'):
            t = time.perf_counter()
            getattr(ev, stage)()
            times[stage] = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': times, 'stats': [float(s) for s in ev.stats], 'peakRssMB': peak_mb}))


if __name__ == '__main__':
    main()
