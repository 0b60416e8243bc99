import gzip
import json
import os
import socket
import tempfile
import unittest

import torch
import torch.multiprocessing as mp

from sasa_torch import create_model, load_safetensors
from sasa_torch.data import idx_datasets, read_idx
from sasa_torch.train_ddp import learning_rate, main, parameter_groups

from .helpers import FASHION


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, world, port, argv):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    main(argv)


class IdxTest(unittest.TestCase):
    def test_reads_the_embedded_subset(self):
        train, test = idx_datasets(FASHION)
        self.assertEqual(train.tensors[0].shape, (10000, 1, 28, 28))
        self.assertEqual(test.tensors[0].shape, (2000, 1, 28, 28))
        self.assertEqual(torch.bincount(train.tensors[1]).tolist(), [1000] * 10)
        self.assertAlmostEqual(train.tensors[0].mean().item(), 0.0, places=4)

    def test_bad_files_are_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.gz")
            with gzip.open(path, "wb") as f:
                f.write(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
            with self.assertRaisesRegex(ValueError, "x.gz: 2 data bytes, the header \\[5\\] needs 5"):
                read_idx(path)


class RecipeTest(unittest.TestCase):
    def test_learning_rate_warms_up_then_decays_to_zero(self):
        self.assertAlmostEqual(learning_rate(0, 100, 10, 1.0), 0.1)
        self.assertAlmostEqual(learning_rate(9, 100, 10, 1.0), 1.0)
        self.assertAlmostEqual(learning_rate(10, 100, 10, 1.0), 1.0)
        self.assertAlmostEqual(learning_rate(55, 100, 10, 1.0), 0.5)
        self.assertAlmostEqual(learning_rate(100, 100, 10, 1.0), 0.0)

    def test_no_weight_decay_on_batch_norm_and_biases(self):
        net = create_model("sasa_resnet26_demo")
        decay, rest = parameter_groups(net, 1e-4)
        names = {id(p): n for n, p in net.named_parameters()}
        self.assertTrue(all(names[id(p)].endswith(("bn1.weight", "bn2.weight", "bn3.weight", "bn.weight", "bias",
                                                    "downsample.1.weight")) for p in rest["params"]))
        self.assertIn("fc.weight", [names[id(p)] for p in decay["params"]])
        self.assertEqual(rest["weight_decay"], 0.0)


class DdpTest(unittest.TestCase):
    def test_two_gloo_processes_lower_the_loss(self):
        with tempfile.TemporaryDirectory() as out:
            argv = ["--model", "resnet26_demo", "--idx", FASHION, "--backend", "gloo", "--steps", "16",
                    "--batch", "32", "--ema", "0.9", "--out", out]
            mp.spawn(worker, args=(2, free_port(), argv), nprocs=2, join=True)
            with open(os.path.join(out, "log.jsonl")) as f:
                steps = [json.loads(line) for line in f]
            losses = [s["loss"] for s in steps]
            self.assertEqual(len(losses), 16)
            self.assertLess(sum(losses[-4:]) / 4, sum(losses[:4]) / 4 - 0.2)
            for name in ("model", "model_ema"):
                load_safetensors(create_model("resnet26_demo"), os.path.join(out, f"{name}.safetensors"))


if __name__ == "__main__":
    unittest.main()
