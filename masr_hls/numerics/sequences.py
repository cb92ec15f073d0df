"""Sequences held between layers in compact form: the words a frame costs in the store.

A stored frame is its mask words and its non-zero values packed from slot 0 (docs/arithmetic.md, "Sequence
storage"); writing or reading one costs ``mask words(n) + nnz`` words.  The store is allocated for the worst case,
``max_frames x (mask words(n) + n)`` words.
"""

from __future__ import annotations

import numpy as np

from masr_hls.numerics.bitmask import MASK_BITS, n_words


def frame_words(frames) -> np.ndarray:
    """Words (mask words + non-zero values) of each frame of ``frames`` (..., n), shape (...)."""
    frames = np.asarray(frames)
    return n_words(frames.shape[-1]) + np.count_nonzero(frames, axis=-1)


def sequence_words(frames) -> np.ndarray:
    """Words of every frame of each sequence of ``frames`` (..., frames, n) summed, shape (...)."""
    return frame_words(frames).sum(axis=-1)


def worst_case_bits(max_frames: int, n: int, value_bits: int) -> int:
    """The store's allocation: every frame with every value non-zero."""
    return max_frames * (n_words(n) * MASK_BITS + n * value_bits)
