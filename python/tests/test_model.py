import json
import os
import tempfile
import unittest

import torch

from sasa_torch import create_model, load_safetensors, read_safetensors, save_safetensors
from sasa_torch.safetensors_io import state_of, write_safetensors

from .helpers import GOLDEN


class GoldenModelTest(unittest.TestCase):
    def test_sasa_golden_weights_give_the_golden_logits(self):
        with open(os.path.join(GOLDEN, "model.json")) as f:
            golden = json.load(f)
        net = create_model(golden["model"], golden["config"]).to(torch.float64).eval()
        load_safetensors(net, os.path.join(GOLDEN, "model_weights.safetensors"))
        x = torch.tensor(golden["x"], dtype=torch.float64).reshape(golden["inputShape"]).permute(0, 3, 1, 2)
        with torch.no_grad():
            logits = net(x).reshape(-1)
        err = (logits - torch.tensor(golden["logitsEval"], dtype=torch.float64)).abs().max().item()
        self.assertLess(err, 1e-7)


class SafetensorsTest(unittest.TestCase):
    def test_reads_sasas_fixture(self):
        tensors, _ = read_safetensors(os.path.join(GOLDEN, "f32_i32.safetensors"))
        self.assertTrue(any(t.dtype == torch.float32 for t in tensors.values()))
        self.assertTrue(any(t.dtype == torch.int32 for t in tensors.values()))

    def test_save_and_load_are_bit_identical(self):
        a, b = create_model("sasa_resnet26_demo"), create_model("sasa_resnet26_demo")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w.safetensors")
            save_safetensors(a, path, {"note": "test"})
            load_safetensors(b, path)
            tensors, meta = read_safetensors(path)
        self.assertEqual(meta, {"format": "pt", "note": "test"})
        self.assertNotIn("stem.bn.num_batches_tracked", tensors)
        for k, v in state_of(a).items():
            self.assertTrue(torch.equal(v, state_of(b)[k]), k)

    def test_missing_and_misshapen_weights_are_named(self):
        net = create_model("resnet26_demo")
        state = state_of(net)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w.safetensors")
            write_safetensors(path, {k: v for k, v in state.items() if k != "fc.bias"})
            with self.assertRaisesRegex(ValueError, "missing weights \\['fc.bias'\\]"):
                load_safetensors(net, path)
            write_safetensors(path, {**state, "fc.bias": torch.zeros(3)})
            with self.assertRaisesRegex(ValueError, "weight 'fc.bias' has shape \\[3\\]"):
                load_safetensors(net, path)


if __name__ == "__main__":
    unittest.main()
