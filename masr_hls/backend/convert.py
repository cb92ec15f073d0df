"""The one conversion path: hls4ml's ``convert_from_keras_model`` with the MASR backend and masr_hls' defaults.

It adds what must happen before hls4ml's parser sees the model (Keras-level
checks that name the layer) and wraps hls4ml's rough edges in one place (the
``default`` precision its own layers read, config sections it would drop).
"""

from __future__ import annotations

import copy

from masr_hls.backend.config import (
    DEFAULT_CLOCK_PERIOD,
    DEFAULT_PART,
    DEFAULT_PRECISION,
    DEFAULT_PROJECT_NAME,
    config_from_keras_model,
    load_yaml,
    validate,
)
from masr_hls.frontend.entry_points import BACKEND_NAME as BACKEND
from masr_hls.frontend.keras_reader import ConversionError, check_model, load_model, with_frames

CPP_RESERVED = frozenset(
    """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class
compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default delete do
double dynamic_cast else enum explicit export extern false float for friend goto if inline int long mutable namespace new
noexcept not not_eq nullptr operator or or_eq private protected public register reinterpret_cast requires return short signed
sizeof static static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename union
unsigned using virtual void volatile wchar_t while xor xor_eq main masr ap_fixed ap_ufixed ap_int ap_uint""".split()
)


def convert_from_keras_model(
    model,
    hls_config=None,
    output_dir="masr_prj",
    project_name=DEFAULT_PROJECT_NAME,
    part=DEFAULT_PART,
    clock_period=DEFAULT_CLOCK_PERIOD,
    backend=BACKEND,
    **kwargs,
):
    """hls4ml's ``convert_from_keras_model`` with the MASR backend: a Keras 3 model (or ``.keras`` path) to a ModelGraph.

    ``hls_config``: a dict from :func:`config_from_keras_model`, a path to a YAML file, or None for defaults.
    Nothing is written until ``compile()``, ``write()`` or ``build()``.  Layers and options MASR cannot compute
    as Keras does are refused here, by name.
    """
    import hls4ml

    if backend != BACKEND:
        raise ConversionError(f"backend {backend!r}: masr_hls converts for the 'MASR' backend only")
    if not str(project_name).isidentifier() or not str(project_name).isascii() or project_name in CPP_RESERVED:
        raise ConversionError(f"project_name {project_name!r} must be a C++ identifier that is not a keyword")
    keras_model = load_model(model)
    check_model(keras_model)
    if hls_config is None:
        hls_config = config_from_keras_model(keras_model)
    elif not isinstance(hls_config, dict):
        hls_config = load_yaml(hls_config)
    validate(hls_config, masr_layers=())  # sections and Model keys now; hls4ml drops sections it does not know
    hls_config = with_default_precision(hls_config)
    hm = hls4ml.converters.convert_from_keras_model(
        with_max_frames(keras_model, hls_config),
        hls_config=hls_config,
        output_dir=str(output_dir),
        project_name=project_name,
        backend=BACKEND,
        part=part,
        clock_period=clock_period,
        allow_da_fallback=False,
        **kwargs,
    )
    hm.config.config["KerasModel"] = keras_model  # the cross-checks run Keras on inputs of any length
    return hm


def with_max_frames(keras_model, hls_config: dict):
    """The model as hls4ml's IR can hold it: an input of any number of frames gets Model.MaxFrames."""
    if keras_model.inputs[0].shape[1] is not None:
        return keras_model
    max_frames = (hls_config.get("Model") or {}).get("MaxFrames")
    if max_frames is None:
        raise ConversionError(
            f"model {keras_model.name!r}: its input takes any number of frames; set Model.MaxFrames (the most frames "
            "the hardware holds) in the configuration"
        )
    return with_frames(keras_model, int(max_frames))


def with_default_precision(hls_config: dict) -> dict:
    """A copy of ``hls_config`` whose Model.Precision has hls4ml's ``default`` (its layers outside MASR's read it),
    set to MASR's 16-bit default so that a config without one means what it means in masr_hls."""
    config = copy.deepcopy(hls_config)
    if not isinstance(config.get("Model", {}), dict):
        return config  # refused by name in the backend
    model = config.setdefault("Model", {})
    precision = model.get("Precision")
    if precision is None:
        model["Precision"] = {"default": DEFAULT_PRECISION["state"]}
    elif isinstance(precision, dict):
        precision.setdefault("default", DEFAULT_PRECISION["state"])
    return config
