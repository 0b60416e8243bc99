"""Paths shared by the tests (run from python/: /usr/bin/python3 -m unittest discover -s tests -t .)."""
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "test", "golden")
FASHION = os.path.join(ROOT, "data", "fashion-mnist-subset")
