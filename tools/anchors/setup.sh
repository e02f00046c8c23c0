#!/usr/bin/env bash
# Installs what the anchors need, from Debian and PyPI only.
#   usage: bash tools/anchors/setup.sh [VENV_DIR]   (default ./.venv-anchors)
# HEVC tiling: x265 and ffmpeg (Debian packages) and numpy. NNC: nncodec from PyPI, which pulls
# PyTorch (about 2.5 GB with its CUDA wheels) and builds its C++ part (about 10 minutes).
set -euo pipefail
VENV="${1:-./.venv-anchors}"
if ! command -v x265 >/dev/null || ! command -v ffmpeg >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y x265 ffmpeg; else sudo apt-get install -y x265 ffmpeg; fi
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy
"$VENV/bin/pip" install --quiet nncodec==2.1.3
"$VENV/bin/python" -c "import numpy, nncodec.tensor; print('ready:', '$VENV')"
