"""The README's Python example runs as written, from the repository root."""

import os
import re

from conftest import REPO


def test_readme_example(capsys):
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) == 1
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(blocks[0], "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    size, ratio, error = capsys.readouterr().out.split()
    assert int(size) > 0 and float(ratio) > 2 and 0 < float(error) < 0.1
