"""Summarises the attention-heads probe runs (runs/<id>/metrics.jsonl, git-ignored) into summary.json and a
markdown table: validation AP50 after each epoch and the mean box / classification loss over steps 301–400
and 701–800. Usage: python3 results/shapes-detection/attention-heads-probe/summarize.py"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = {
    'pJ': 'conv FPN + conv subnets (retinanet_demo), reference',
    'pI': 'attention FPN + conv subnets, σ 0.028 (= --heads conv)',
    'pA': 'attention FPN + heads (retinanet_demo_attnfpn)',
    'pB': '… + level BN',
    'pF': '… + level BN, lr 6e-3 (the conv recipe)',
    'pK': '… + level BN, relative tables ×10 at init*',
    'pG': '… + level BN, lr 6e-3, relative tables ×10 at init*',
    'pD': '… subnets of depth 0 (FPN attention → attention → 1×1)',
    'pE': '… 8 heads of 4 channels',
    'pH': '… a 3×3 conv as each predictor*',
    'pL': '… absolute positions (sinusoidal) instead of relative',
    'pM': '… + level BN, W_K initialised equal to W_Q, both ×2*',
    'mixed-6e-3-stopped': 'attention FPN + conv subnets, level BN, lr 6e-3 (stopped: loss rose)',
}


def load(run):
    steps, epochs = [], []
    with open(os.path.join('runs', run, 'metrics.jsonl')) as f:
        for line in f:
            j = json.loads(line)
            (steps if j['type'] == 'step' else epochs if j['type'] == 'epoch' else []).append(j)
    return steps, epochs


def mean(steps, key, a, b):
    s = [x[key] for x in steps[a:b]]
    return round(sum(s) / len(s), 3) if len(s) >= (b - a) // 2 else None


summary = {}
for run, label in RUNS.items():
    steps, epochs = load(run)
    summary[run] = {
        'label': label,
        'steps': len(steps),
        'ap50_by_epoch': [round(e['val_ap50'], 3) for e in epochs],
        'box_loss_301_400': mean(steps, 'box_regression', 300, 400),
        'box_loss_701_800': mean(steps, 'box_regression', 700, 800),
        'cls_loss_701_800': mean(steps, 'classification', 700, 800),
    }
with open(os.path.join(HERE, 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=1)
fmt = lambda v: '' if v is None else f'{v:.3f}'
print('| run | AP50 after epochs 1, 2, 3, … | box loss, steps 301–400 | 701–800 | class loss, 701–800 |')
print('|---|---|---:|---:|---:|')
for run, s in summary.items():
    aps = ', '.join(f'{a:.3f}' for a in s['ap50_by_epoch'])
    print(f"| {s['label']} | {aps} | {fmt(s['box_loss_301_400'])} | {fmt(s['box_loss_701_800'])} | {fmt(s['cls_loss_701_800'])} |")
