import json
import math
import os
import unittest

import torch

from sasa_torch.layers import MaxPoolSame
from sasa_torch.ops import local_attention, same_padding, sinusoidal_2d

from .helpers import GOLDEN


class LocalAttentionTest(unittest.TestCase):
    def test_matches_the_committed_golden_values(self):
        """The golden file's outputs were checked against per-pixel loops when generated."""
        with open(os.path.join(GOLDEN, "local_attention.json")) as f:
            cases = json.load(f)["cases"]
        t = lambda v, shape: None if v is None else torch.tensor(v, dtype=torch.float64).reshape(shape)  # noqa: E731
        for c in cases:
            B, H, W, C = c["shape"]
            K = c["kernelSize"]
            y = local_attention(t(c["q"], c["shape"]), t(c["k"], c["shape"]), t(c["v"], c["shape"]),
                                t(c["relRow"], [K, C // 2]), t(c["relCol"], [K, C // 2]), K, c["heads"],
                                c["scale"], c["padding"], c["logits"])
            err = (y.reshape(-1) - torch.tensor(c["y"], dtype=torch.float64)).abs().max().item()
            self.assertLess(err, 1e-8, c["name"])

    def test_masked_1x1_image_returns_v(self):
        v = torch.randn(2, 1, 1, 4)
        y = local_attention(torch.randn(2, 1, 1, 4), torch.randn(2, 1, 1, 4), v, None, None, 7, 2, None, "masked",
                            "qk")
        self.assertTrue(torch.allclose(y, v))


class PaddingTest(unittest.TestCase):
    def test_same_padding_puts_the_extra_row_after(self):
        self.assertEqual(same_padding(224, 7, 2), (2, 3))
        self.assertEqual(same_padding(112, 3, 2), (0, 1))
        self.assertEqual(same_padding(7, 3, 2), (1, 1))
        self.assertEqual(same_padding(8, 1, 2), (0, 0))
        self.assertEqual(same_padding(5, 3, 1), (1, 1))

    def test_max_pool_same_reads_the_bottom_right_edge(self):
        x = torch.full((1, 1, 4, 4), -5.0)
        x[0, 0, 3, 3] = 7.0
        y = MaxPoolSame(3, 2)(x)  # windows rows/cols {0,1,2}, {2,3} + padding
        self.assertEqual(y.shape, (1, 1, 2, 2))
        self.assertEqual(y[0, 0, 1, 1].item(), 7.0)
        self.assertEqual(y[0, 0, 0, 0].item(), -5.0)


class SinusoidalTest(unittest.TestCase):
    def test_channels_are_sin_cos_of_rows_then_columns(self):
        pe = sinusoidal_2d(3, 5, 8, torch.float64)
        m = 2
        for i, j, t in ((2, 4, 1), (1, 3, 0)):
            w = 10000 ** (-t / m)
            self.assertAlmostEqual(pe[i, j, t].item(), math.sin(i * w), places=12)
            self.assertAlmostEqual(pe[i, j, m + t].item(), math.cos(i * w), places=12)
            self.assertAlmostEqual(pe[i, j, 2 * m + t].item(), math.sin(j * w), places=12)
            self.assertAlmostEqual(pe[i, j, 3 * m + t].item(), math.cos(j * w), places=12)


if __name__ == "__main__":
    unittest.main()
