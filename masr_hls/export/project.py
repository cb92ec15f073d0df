"""A converted project on disk: the HLS sources plus what is needed to rebuild the model from them.

``masr_project.json`` names the Keras model (copied into the folder) and the
configuration, so a project can be C-simulated or exported later without the
original files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from masr_hls import convert_from_keras_model
from masr_hls.backend.config import load_yaml, validate
from masr_hls.backend.model import MasrModel

METADATA = "masr_project.json"
MODEL_FILE = "model.keras"


def convert(model_path, output_dir, config_path=None, config_updates=None, project_name="myproject",
            part="xcvu9p-flga2104-2-e", clock_period=5.0, force=False) -> MasrModel:
    output_dir = Path(output_dir)
    if output_dir.exists() and any(output_dir.iterdir()) and not force:
        raise FileExistsError(f"output folder {output_dir} is not empty; choose another or pass --force")
    config = load_yaml(config_path) if config_path else {}
    config.setdefault("Model", {})
    config["Model"].update(config_updates or {})
    config = validate(config)
    hw = convert_from_keras_model(model_path, hls_config=config, output_dir=output_dir, project_name=project_name,
                                  part=part, clock_period=clock_period)
    hw.write(overwrite=True)
    shutil.copyfile(model_path, output_dir / MODEL_FILE)
    metadata = dict(model=MODEL_FILE, config=config, project_name=project_name, part=part, clock_period=clock_period)
    (output_dir / METADATA).write_text(json.dumps(metadata, indent=2))
    return hw


def load(project_dir) -> MasrModel:
    project_dir = Path(project_dir)
    meta_path = project_dir / METADATA
    if not meta_path.is_file():
        raise FileNotFoundError(f"{project_dir} is not a masr-hls project (no {METADATA}); create one with 'masr-hls convert'")
    meta = json.loads(meta_path.read_text())
    return convert_from_keras_model(project_dir / meta["model"], hls_config=meta["config"], output_dir=project_dir,
                                    project_name=meta["project_name"], part=meta["part"], clock_period=meta["clock_period"])


def convert_in_memory(model_path) -> MasrModel:
    """A .keras file with the default configuration, not written anywhere."""
    return convert_from_keras_model(model_path, output_dir=Path(tempfile.mkdtemp(prefix="masr-")) / "prj")


def example_input(hw: MasrModel, samples: int, seed: int = 0, density: float = 0.5) -> np.ndarray:
    """Random sparse inputs of the model's shape (for a testbench when no data is given)."""
    rng = np.random.default_rng(seed)
    shape = (samples, hw.max_frames, hw.spec.n_features)
    return rng.normal(0, 1, shape) * (rng.random(shape) < density)


__all__ = ["convert", "load", "load_yaml", "convert_in_memory", "example_input"]
