"""Tests of the anchors that need neither x265, ffmpeg nor NNCodec: the tiling, the quantization
and the clear errors when a tool is missing. Run: python -m unittest discover tools/anchors/tests"""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ANCHORS = os.path.dirname(HERE)
sys.path.insert(0, ANCHORS)

import hevc_tiling  # noqa: E402


class Tiling(unittest.TestCase):
    def test_grid_is_near_square_and_holds_every_map(self):
        for count in [1, 2, 3, 5, 64, 100, 128, 257, 512, 1024]:
            columns, rows = hevc_tiling.grid(count)
            self.assertGreaterEqual(columns * rows, count)
            self.assertLess(columns * (rows - 1), count)
            self.assertLessEqual(abs(columns - rows), 1 + count // 10 ** 6)

    def test_tile_and_untile_give_back_every_map(self):
        rng = np.random.default_rng(1)
        for shape in [(1024,), (3, 5), (7, 4, 6), (2, 3, 4, 5), (64, 14, 14), (5, 1, 9)]:
            levels = rng.integers(0, 1024, size=shape).astype(np.uint16)
            maps, restore = hevc_tiling.as_maps(levels)
            picture = hevc_tiling.tile(maps)
            self.assertEqual(picture.shape[0] % hevc_tiling.ALIGN, 0)
            self.assertEqual(picture.shape[1] % hevc_tiling.ALIGN, 0)
            self.assertGreaterEqual(min(picture.shape), hevc_tiling.MIN_SIDE)
            back = restore(hevc_tiling.untile(picture, *maps.shape))
            self.assertEqual(back.shape, levels.shape)
            np.testing.assert_array_equal(back, levels)

    def test_padding_repeats_the_edge(self):
        maps = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(2, 3, 3)
        picture = hevc_tiling.tile(maps)
        # two maps side by side in a 2 x 1 grid, then edge padding
        np.testing.assert_array_equal(picture[:3, :3], maps[0])
        np.testing.assert_array_equal(picture[:3, 3:6], maps[1])
        np.testing.assert_array_equal(picture[3:, :6], np.repeat(picture[2:3, :6], picture.shape[0] - 3, 0))
        np.testing.assert_array_equal(picture[:, 6:], np.repeat(picture[:, 5:6], picture.shape[1] - 6, 1))

    def test_quantization_error_is_at_most_half_a_step(self):
        rng = np.random.default_rng(2)
        values = rng.normal(size=1000).astype(np.float32)
        low, high = np.float32(values.min()), np.float32(values.max())
        for bits in (8, 10):
            levels = hevc_tiling.quantize(values, low, high, bits)
            self.assertEqual(int(levels.max()), (1 << bits) - 1)
            back = hevc_tiling.dequantize(levels, low, high, bits)
            step = (float(high) - float(low)) / ((1 << bits) - 1)
            self.assertLessEqual(float(np.abs(back - values).max()), step / 2 * 1.0001)
        constant = np.full(10, 3.5, dtype=np.float32)
        levels = hevc_tiling.quantize(constant, constant.min(), constant.max(), 10)
        np.testing.assert_array_equal(hevc_tiling.dequantize(levels, constant.min(), constant.max(), 10), constant)


class MissingTools(unittest.TestCase):
    def run_script(self, script, env):
        with tempfile.TemporaryDirectory() as work:
            tensor = os.path.join(work, "t.npy")
            np.save(tensor, np.ones((2, 8, 8), dtype=np.float32))
            out = os.path.join(work, "out")
            os.mkdir(out)
            return subprocess.run([sys.executable, os.path.join(ANCHORS, script), tensor, out, "20"],
                                  env=env, capture_output=True, text=True)

    def test_hevc_without_x265_says_what_to_install(self):
        env = dict(os.environ, PATH=os.path.dirname(os.path.realpath(sys.executable)) + os.pathsep + "/nonexistent")
        done = self.run_script("hevc_tiling.py", env)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("x265 not found", done.stderr)
        self.assertIn("apt-get install x265 ffmpeg", done.stderr)

    def test_nnc_without_nncodec_says_what_to_install(self):
        try:
            import nncodec  # noqa: F401
            self.skipTest("nncodec is installed here")
        except ImportError:
            pass
        done = self.run_script("nnc.py", dict(os.environ, DFC_NNC_NO_SERVER="1"))
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("pip install nncodec", done.stderr)


if __name__ == "__main__":
    unittest.main()
