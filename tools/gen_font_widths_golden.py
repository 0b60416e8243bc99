#!/usr/bin/env python3
"""Golden text widths for src/viz/font_metrics.ts, from fontTools (an independent TrueType reader).

width(text) = sum over characters of hmtx advance(cmap(char)) / unitsPerEm * size (no kerning), for the
bundled Inter faces (node_modules/@expo-google-fonts/inter) at font size 1.

Run: python3 tools/gen_font_widths_golden.py > test/golden/font_widths.json && npx biome format --write test/golden/font_widths.json
(pip: fonttools)
JSON: {"generator", "fonttools", "faces": {"<face>": {"unitsPerEm", "widths": {"<text>": width}}}}.
"""
import json
import os

import fontTools
from fontTools.ttLib import TTFont

ROOT = os.path.join(os.path.dirname(__file__), '..', 'node_modules', '@expo-google-fonts', 'inter')
FACES = ['400Regular', '700Bold']
TEXTS = [
    'step', 'loss', 'top-1 %', 'T-shirt/top', 'Ankle boot', 'conv 1,2 / attention 3,4', 'k=11',
    'sasa_resnet26 on fashion-mnist: validation accuracy', '0.123456789', 'WWW iii', 'réseau', '−0.25', '1,000',
    ''.join(chr(c) for c in range(32, 127)),
]


def widths(face):
    font = TTFont(os.path.join(ROOT, face, f'Inter_{face}.ttf'))
    cmap = font.getBestCmap()
    hmtx = font['hmtx']
    em = font['head'].unitsPerEm
    advance = lambda ch: hmtx[cmap.get(ord(ch), '.notdef')][0]
    return {'unitsPerEm': em, 'widths': {t: sum(advance(ch) for ch in t) / em for t in TEXTS}}


print(json.dumps({'generator': 'tools/gen_font_widths_golden.py', 'fonttools': fontTools.version,
                  'faces': {face: widths(face) for face in FACES}}, indent=1, ensure_ascii=False))
