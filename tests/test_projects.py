"""The example projects run end to end: train, prune, convert, C-simulate, cross-check, export, check the export."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.csim, pytest.mark.slow]


@pytest.mark.parametrize("project", ["kws_bigru", "deepspeech2_small"])
def test_example_project_runs_end_to_end(project, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "projects" / project / "recipe.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "csim vs numpy reference bit-exact" in out and "agrees" in out
    assert "0 mismatches" in out and "build_prj.tcl dry run ok" in out and "vivado_synth.tcl dry run ok" in out
    assert (tmp_path / "ip" / "build_prj.tcl").is_file()


def test_the_bundled_keyword_model_is_the_recipe_s():
    """README's first command runs on projects/kws_speech/model.keras: it must load and have the recipe's shape."""
    import keras

    model = keras.saving.load_model(ROOT / "projects" / "kws_speech" / "model.keras", compile=False)
    assert tuple(model.inputs[0].shape[1:]) == (25, 16) and tuple(model.outputs[0].shape[1:]) == (12,)
    kernel = model.get_layer("bigru").forward_layer.get_weights()[0]
    assert 0.05 < float((kernel != 0).mean()) < 0.2  # pruned to about 90%
