"""Sequences held between layers in compact form: the words a frame costs in the store.

A stored frame is its mask words and its non-zero values packed from slot 0 (docs/arithmetic.md, "Sequence
storage"); writing or reading one costs ``mask words(n) + nnz`` words.  The store is allocated for the worst case,
``max_frames x (mask words(n) + n)`` words, ``max_frames`` the frames its producer outputs (the model's, or 1 for a
last-state output).  A split store (a concat Bidirectional layer's output) holds its
forward ``split`` values and the rest apart, each half with its own mask words.
"""

from __future__ import annotations

import numpy as np

from masr_hls.numerics.bitmask import MASK_BITS, n_words


def mask_words(n: int, split: int = 0) -> int:
    """Mask words of a stored frame of n values: ceil(n / 32), or each half's with a ``split`` store."""
    if split and not 0 < split < n:
        raise ValueError(f"a store of {n} values cannot split at {split}")
    return n_words(split) + n_words(n - split) if split else n_words(n)


def frame_words(frames, split: int = 0) -> np.ndarray:
    """Words (mask words + non-zero values) of each frame of ``frames`` (..., n), shape (...)."""
    frames = np.asarray(frames)
    return mask_words(frames.shape[-1], split) + np.count_nonzero(frames, axis=-1)


def sequence_words(frames, split: int = 0) -> np.ndarray:
    """Words of every frame of each sequence of ``frames`` (..., frames, n) summed, shape (...)."""
    return frame_words(frames, split).sum(axis=-1)


def worst_case_bits(max_frames: int, n: int, value_bits: int, split: int = 0) -> int:
    """The store's allocation: every frame with every value non-zero."""
    return max_frames * (mask_words(n, split) * MASK_BITS + n * value_bits)
