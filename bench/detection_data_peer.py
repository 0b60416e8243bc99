"""The peer of bench/detection_data.ts's batch case: PIL decode (EXIF orientation applied), normalise,
torch bilinear resize (align_corners=False, no antialias) of the shorter side to S with the longer <= L,
random flip, pad to multiples of 128, batches of 8; images per second, best of --rounds.
    /usr/bin/python3 bench/detection_data_peer.py [--data /work/shared/data/voc100] [--rounds 3]
"""
import argparse
import json
import os
import random
import time

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def prepare(path, shorter, max_size):
    im = ImageOps.exif_transpose(Image.open(path)).convert('RGB')
    x = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(im.height, im.width, 3)
    x = (x.permute(2, 0, 1).float() / 255 - MEAN) / STD
    scale = min(shorter / min(im.width, im.height), max_size / max(im.width, im.height))
    size = (max(1, round(im.height * scale)), max(1, round(im.width * scale)))
    x = F.interpolate(x[None], size=size, mode='bilinear', align_corners=False)[0]
    return x.flip(-1) if random.random() < 0.5 else x


def epoch(paths, shorter, max_size):
    n = 0
    for i in range(0, len(paths), 8):
        images = [prepare(p, shorter, max_size) for p in paths[i:i + 8]]
        h = -(-max(x.shape[1] for x in images) // 128) * 128
        w = -(-max(x.shape[2] for x in images) // 128) * 128
        batch = torch.zeros(len(images), h, w, 3)
        for k, x in enumerate(images):
            batch[k, :x.shape[1], :x.shape[2]] = x.permute(1, 2, 0)
        n += len(images)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='/work/shared/data/voc100')
    ap.add_argument('--rounds', type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    with open(os.path.join(args.data, 'instances.json')) as f:
        files = [im['file_name'] for im in json.load(f)['images']]
    paths = [os.path.join(args.data, 'images', name) for name in files]
    best = 0
    for _ in range(args.rounds):
        t = time.perf_counter()
        n = epoch(paths, 512, 853)
        best = max(best, n / (time.perf_counter() - t))
    print(json.dumps({'case': f'peer batches {args.data} S=512 L=853', 'images_per_s': round(best, 1)}))


main()
