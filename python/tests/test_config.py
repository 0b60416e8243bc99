import unittest

from sasa_torch import REGISTRY, ConfigError, ModelConfig, create_model, model_config, resolve_config
from sasa_torch.config import same_out, scale_width


class ConfigTest(unittest.TestCase):
    def test_every_registered_model_resolves(self):
        self.assertEqual(len(REGISTRY), 12)
        for name in REGISTRY:
            c = resolve_config(model_config(name))
            self.assertEqual(c.name, name)
            self.assertEqual(c.features, c.blocks[-1].out_channels)

    def test_resnet50_has_torchvisions_parameter_count(self):
        net = create_model("resnet50")
        self.assertEqual(sum(p.numel() for p in net.parameters()), 25_557_032)

    def test_widths_round_like_sasa(self):
        self.assertEqual(scale_width(64, 0.25), 16)
        self.assertEqual(scale_width(64, 0.0625), 8)
        self.assertEqual(scale_width(100, 0.5), 48)  # 6.25 rounds to 6
        self.assertEqual(same_out(7, 2), 4)

    def test_demo_blocks(self):
        c = resolve_config(model_config("sasa_resnet26_demo"))
        self.assertEqual([b.input_size for b in c.blocks], [28, 28, 14, 7])
        self.assertEqual([b.width for b in c.blocks], [16, 32, 64, 128])
        self.assertEqual(c.stem.type, "small_attention")
        self.assertEqual((c.attention.kernel_size, c.attention.heads), (7, 4))

    def test_camel_case_dict_and_overrides(self):
        cfg = ModelConfig.from_json({"stem": {"type": "conv"}, "blocks": [1, 1], "inputSize": 32,
                                     "attention": {"kernelSize": 3}})
        self.assertEqual(cfg.input_size, 32)
        self.assertEqual(cfg.attention.kernel_size, 3)
        merged = model_config("sasa_resnet26", {"attention": {"heads": 2}, "stem": {"values": "plain"}})
        self.assertEqual(merged.attention.heads, 2)
        self.assertEqual(merged.stem.type, "attention")
        self.assertEqual(merged.stem.values, "plain")

    def test_errors_name_the_model_and_field(self):
        with self.assertRaisesRegex(ConfigError, r"model 'sasa_resnet26': attention.kernelSize must be an odd"):
            resolve_config(model_config("sasa_resnet26", {"attention": {"kernelSize": 4}}))
        with self.assertRaisesRegex(ConfigError, "inputSize 30 must be a multiple of 4"):
            resolve_config(model_config("sasa_resnet26", {"inputSize": 30}))
        with self.assertRaisesRegex(ValueError, "unknown model 'resnet27'"):
            model_config("resnet27")
        with self.assertRaisesRegex(ValueError, "unknown field 'inputsize'"):
            model_config("resnet26", {"inputsize": 32})


if __name__ == "__main__":
    unittest.main()
