"""A converted project on disk, as the command line keeps it: the HLS sources plus what is needed to rebuild the model from them.

``masr_project.json`` names the Keras model (copied into the folder) and the
configuration, so a project can be C-simulated or exported later without the
original files.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from masr_hls.backend.config import DEFAULT_CLOCK_PERIOD, DEFAULT_PART, DEFAULT_PROJECT_NAME, load_yaml, validate
from masr_hls.backend.convert import convert_from_keras_model
from masr_hls.export.vitis_project import check_part
from masr_hls.files import check_output, write_folder
from masr_hls.model import MasrModel

METADATA = "masr_project.json"
MODEL_FILE = "model.keras"


def convert(
    model_path,
    output_dir,
    config_path=None,
    config_updates=None,
    project_name=DEFAULT_PROJECT_NAME,
    part=DEFAULT_PART,
    clock_period=DEFAULT_CLOCK_PERIOD,
    force=False,
) -> MasrModel:
    """Convert a .keras file into a project folder, which appears whole (sources, model, metadata) or not at all."""
    output_dir = check_output(output_dir, folder=True)
    if output_dir.exists() and any(output_dir.iterdir()) and not force:
        raise FileExistsError(f"output folder {output_dir} is not empty; choose another or pass --force")
    check_part(part)
    config = load_yaml(config_path) if config_path else {}
    config.setdefault("Model", {})
    config["Model"].update(config_updates or {})
    config = validate(config)
    hw = MasrModel.of(
        convert_from_keras_model(
            model_path, hls_config=config, output_dir=output_dir, project_name=project_name, part=part, clock_period=clock_period
        )
    )
    metadata = dict(model=MODEL_FILE, config=config, project_name=project_name, part=part, clock_period=clock_period)
    files = dict(hw.project_files(), **{MODEL_FILE: Path(model_path).read_bytes(), METADATA: json.dumps(metadata, indent=2)})
    write_folder(output_dir, files, overwrite=True)
    return hw


def load(project_dir) -> MasrModel:
    project_dir = Path(project_dir)
    meta_path = project_dir / METADATA
    if not meta_path.is_file():
        raise FileNotFoundError(f"{project_dir} is not a masr-hls project (no {METADATA}); create one with 'masr-hls convert'")
    try:
        meta = json.loads(meta_path.read_text())
        model, config, name, part, clock = (meta[k] for k in ("model", "config", "project_name", "part", "clock_period"))
    except KeyError as exc:
        raise ValueError(
            f"{meta_path}: not a valid masr-hls project file (no key {exc}); convert the model again with 'masr-hls convert --force'"
        ) from None
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{meta_path}: not a valid masr-hls project file ({type(exc).__name__}: {exc}); convert the model again with 'masr-hls convert --force'"
        ) from None
    if not isinstance(model, str) or not (project_dir / model).is_file():
        raise FileNotFoundError(f"{meta_path}: the model file {model!r} it names is missing; convert the model again")
    return MasrModel.of(
        convert_from_keras_model(project_dir / model, hls_config=config, output_dir=project_dir, project_name=name, part=part, clock_period=clock)
    )


def convert_in_memory(model_path) -> MasrModel:
    """A .keras file with the default configuration, not written anywhere (its output_dir is a fresh temporary name
    that exists only once something calls ``compile()`` or ``write()``)."""
    output_dir = Path(tempfile.gettempdir()) / f"masr-{uuid.uuid4().hex[:12]}" / "prj"
    return MasrModel.of(convert_from_keras_model(model_path, output_dir=output_dir))


__all__ = ["convert", "load", "load_yaml", "convert_in_memory"]
