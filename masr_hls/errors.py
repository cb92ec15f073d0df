"""The errors a user can cause, with one base: the command line reports a ``MasrError`` as one line, no traceback.

Each also derives from the built-in class its kind belongs to (a refused value is a ``ValueError``, a tool that
failed a ``RuntimeError``), so callers that catch those keep working.  This module imports nothing of masr_hls.
"""

from __future__ import annotations


class MasrError(Exception):
    """Something the user can fix: the message says what and where."""


class ConversionError(MasrError, ValueError):
    """The model uses a layer or an option masr_hls cannot convert faithfully."""


class ConfigError(MasrError, ValueError):
    """A configuration key or value that does not exist or cannot be used."""


class PrecisionError(MasrError, ValueError):
    """A fixed-point precision that cannot be represented or is not supported."""


class EnergyTableError(MasrError, ValueError):
    """A parameter file that cannot be used; the message names the file and the key."""


class NotInRtl(MasrError, ValueError):
    """A layer or option the RTL does not implement."""


class ToolNotFound(MasrError, RuntimeError):
    """A tool the command needs (g++, Verilator, Yosys, Vitis HLS, espeak-ng) is not installed."""


class CompileError(MasrError, RuntimeError):
    """g++ rejected the generated or template C++."""


class RtlError(MasrError, RuntimeError):
    """Verilator or Yosys rejected the RTL, or the simulation failed."""


class VitisError(MasrError, RuntimeError):
    """Vitis HLS ran and failed."""


class SpeechDataError(MasrError, RuntimeError):
    """The data set cannot be made (espeak-ng missing or failing, bad parameters)."""
