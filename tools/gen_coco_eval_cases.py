#!/usr/bin/env python3
"""Golden cases for sasa's COCO bbox evaluation (src/tasks/detection/coco_eval/), from pycocotools.

Each case is a directory test/golden/coco_eval/<case>/ with gt.json (instances), dt.json (detections)
and expected.json: pycocotools' COCOeval(iouType='bbox') after evaluate/accumulate/summarize:
  stats            the 12 summary numbers, in pycocotools' order
  per_category     [{id, ap, ap50}]: precision[:, :, k, 0, -1] mean over entries > -1 (and at IoU 0.5)
  precision_sums   [K, A, M] flat: the sum over (T, R) of precision (the -1 entries included)
  recall           [T, K, A, M] flat: eval['recall'] in full
The generated cases are seeded; 'fixture' is /work/shared/data/coco-eval-fixture (COCO val2014 annotations,
CC BY 4.0) copied in as gt.json / dt.json, its expected.json computed here the same way.

Run (pyenv python3 with pycocotools): python3 tools/gen_coco_eval_cases.py
"""
import contextlib
import io
import json
import os
import random
import shutil

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'golden', 'coco_eval')
FIXTURE = '/work/shared/data/coco-eval-fixture'


def evaluate(gt_path, dt_path):
    """pycocotools on the two files; a COCO-style detections object is read through its 'annotations'."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        with open(dt_path) as f:
            dets = json.load(f)
        if isinstance(dets, dict):
            dets = dets['annotations']
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, iouType='bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval['precision']
    per_category = []
    for k, cat_id in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        p50 = precision[0, :, k, 0, -1]
        per_category.append({
            'id': int(cat_id),
            'ap': float(np.mean(p[p > -1])) if (p > -1).any() else -1.0,
            'ap50': float(np.mean(p50[p50 > -1])) if (p50 > -1).any() else -1.0,
        })
    return {
        'stats': [float(s) for s in ev.stats],
        'per_category': per_category,
        'precision_sums': [float(x) for x in precision.sum(axis=(0, 1)).reshape(-1)],
        'recall': [float(x) for x in ev.eval['recall'].reshape(-1)],
    }


def rbox(rng, W, H, side_lo, side_hi):
    w = rng.uniform(side_lo, min(side_hi, W))
    h = rng.uniform(side_lo, min(side_hi, H))
    return [round(rng.uniform(0, W - w), 2), round(rng.uniform(0, H - h), 2), round(w, 2), round(h, 2)]


def jitter(rng, box, W, H, amount):
    x, y, w, h = box
    x2 = min(W, max(0.0, x + rng.gauss(0, amount * w)))
    y2 = min(H, max(0.0, y + rng.gauss(0, amount * h)))
    w2 = max(1.0, w * (1 + rng.gauss(0, amount)))
    h2 = max(1.0, h * (1 + rng.gauss(0, amount)))
    return [round(min(x2, W - 1), 2), round(min(y2, H - 1), 2), round(w2, 2), round(h2, 2)]


def random_case(seed, n_images, n_cats, first_image_id, crowd_rate, dets_per_gt, fp_per_image, score_digits,
                empty_images=0, cats_without_gt=(), cats_without_dt=(), many_dets_images=0):
    rng = random.Random(seed)
    images = [{'id': first_image_id + 7 * i, 'width': rng.choice([320, 480, 640]), 'height': rng.choice([240, 480]),
               'file_name': f'{i:06d}.jpg', 'license': 1} for i in range(n_images)]
    rng.shuffle(images)
    cats = [{'id': c + 1, 'name': f'class{c + 1}', 'supercategory': 'thing'} for c in range(n_cats)]
    anns, dets = [], []
    for n, img in enumerate(images):
        W, H = img['width'], img['height']
        if n < empty_images:
            n_gt = 0
        else:
            n_gt = rng.randint(1, 8)
        for _ in range(n_gt):
            cat = rng.choice([c['id'] for c in cats if c['id'] not in cats_without_gt])
            box = rbox(rng, W, H, 4, 300)
            crowd = 1 if rng.random() < crowd_rate else 0
            area = round(box[2] * box[3] * rng.uniform(0.5, 1.0), 3)
            anns.append({'id': len(anns) + 1, 'image_id': img['id'], 'category_id': cat, 'bbox': box,
                         'area': area, 'iscrowd': crowd, 'segmentation': [], 'ignore': 0})
            if cat in cats_without_dt:
                continue
            for _ in range(rng.randint(0, dets_per_gt)):
                dets.append({'image_id': img['id'], 'category_id': cat, 'bbox': jitter(rng, box, W, H, 0.12),
                             'score': round(rng.uniform(0.05, 1.0), score_digits)})
        dt_cats = [c['id'] for c in cats if c['id'] not in cats_without_dt]
        n_fp = fp_per_image + (150 if n >= n_images - many_dets_images else 0)
        crowded_cat = rng.choice(dt_cats)
        for f in range(n_fp):
            cat = crowded_cat if f >= fp_per_image else rng.choice(dt_cats)
            dets.append({'image_id': img['id'], 'category_id': cat, 'bbox': rbox(rng, W, H, 2, 250),
                         'score': max(round(rng.uniform(0.01, 1.0), score_digits), 10**-score_digits)})
    rng.shuffle(anns)
    rng.shuffle(dets)
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def area_edges_case():
    """Boxes and GT areas exactly at 32² and 96², just beside them, tiny and huge, with exact IoU ties."""
    images = [{'id': i + 1, 'width': 1000, 'height': 1000, 'file_name': f'{i}.jpg'} for i in range(6)]
    cats = [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, {'id': 3, 'name': 'c'}]
    anns, dets = [], []
    sizes = [(32, 32), (96, 96), (31.99, 32), (96, 96.01), (1, 1), (0.5, 2), (990, 990), (16, 64), (48, 192)]
    for i, img in enumerate(images):
        for j, (w, h) in enumerate(sizes):
            x, y = 5 + (j % 3) * 2, 5 + (j // 3) * 2
            area = [1024.0, 9216.0, w * h][j % 3] if i % 2 else w * h
            cat = 1 + (i + j) % 3
            anns.append({'id': len(anns) + 1, 'image_id': img['id'], 'category_id': cat, 'bbox': [x, y, w, h],
                         'area': area, 'iscrowd': 0})
            for k, shrink in enumerate([1.0, 0.8, 0.5]):
                dets.append({'image_id': img['id'], 'category_id': cat,
                             'bbox': [x, y, w * shrink, h * (1 if k == 2 else shrink)],
                             'score': [0.9, 0.9, 0.5][k]})
        dets.append({'image_id': img['id'], 'category_id': 1, 'bbox': [500, 500, 32, 32], 'score': 0.7})
        dets.append({'image_id': img['id'], 'category_id': 2, 'bbox': [500, 500, 96, 96], 'score': 0.7})
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def crowd_only_case():
    """Images with only crowd GT, overlapping crowds, a GT with id 0 (pycocotools counts its match as none)."""
    rng = random.Random(5)
    images = [{'id': 100 + i, 'width': 640, 'height': 480, 'file_name': f'{i}.jpg'} for i in range(12)]
    cats = [{'id': 3, 'name': 'person'}, {'id': 9, 'name': 'boat'}]
    anns, dets = [], []
    for i, img in enumerate(images):
        only_crowds = i < 4
        for j in range(rng.randint(1, 5)):
            box = rbox(rng, 640, 480, 10, 300)
            crowd = 1 if only_crowds or rng.random() < 0.3 else 0
            anns.append({'id': len(anns) + 1, 'image_id': img['id'], 'category_id': rng.choice([3, 9]), 'bbox': box,
                         'area': box[2] * box[3] * 0.7, 'iscrowd': crowd})
            for _ in range(rng.randint(1, 4)):
                dets.append({'image_id': img['id'], 'category_id': anns[-1]['category_id'],
                             'bbox': jitter(rng, box, 640, 480, 0.2), 'score': round(rng.uniform(0.1, 1), 1)})
    next(a for a in anns if not a['iscrowd'])['id'] = 0
    return {'images': images, 'annotations': anns, 'categories': cats}, dets


def write_case(name, gt, dets, as_object=False):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'gt.json'), 'w') as f:
        json.dump(gt, f)
    with open(os.path.join(d, 'dt.json'), 'w') as f:
        json.dump({'annotations': dets} if as_object else dets, f)
    save_expected(d)


def save_expected(d):
    expected = evaluate(os.path.join(d, 'gt.json'), os.path.join(d, 'dt.json'))
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump({'generator': 'tools/gen_coco_eval_cases.py (pycocotools)', **expected}, f)
    print(os.path.basename(d), ' '.join(f'{s:.6f}' for s in expected['stats']))


def main():
    write_case('random_crowds', *random_case(1, 60, 6, 20180000001, 0.1, 3, 4, 2, empty_images=5,
                                             cats_without_gt=(6,), cats_without_dt=(5,)))
    write_case('many_detections', *random_case(2, 20, 3, 1, 0.05, 4, 30, 1, many_dets_images=6), as_object=True)
    write_case('area_edges', *area_edges_case())
    write_case('crowd_only', *crowd_only_case())
    d = os.path.join(ROOT, 'fixture')
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(FIXTURE, 'ground_truth.json'), os.path.join(d, 'gt.json'))
    shutil.copyfile(os.path.join(FIXTURE, 'detections.json'), os.path.join(d, 'dt.json'))
    save_expected(d)


if __name__ == '__main__':
    main()
