"""Batches of utterances of different lengths.

Every entry point that takes inputs (``predict``, ``csim``, the reference, the cross-check, ``masr-hls``)
takes either one array (samples, frames, features), whose samples share a length, or a list of
(frames, features) utterances of any lengths; each utterance then runs for its own frames and its
outputs come back on their own, in a list.  The reference and Keras run the utterances of one length
together (their arithmetic is vectorised over samples); the C simulation takes them all in one call.
"""

from __future__ import annotations

import numpy as np


def is_utterances(x) -> bool:
    """Is ``x`` a batch of utterances (a list or tuple of (frames, features) arrays), not one array?"""
    return isinstance(x, (list, tuple))


def by_length(utterances) -> dict[int, list[int]]:
    """The indices of the utterances of each length, in order of first appearance."""
    groups: dict[int, list[int]] = {}
    for i, u in enumerate(utterances):
        groups.setdefault(len(u), []).append(i)
    return groups


def run_by_length(run, utterances) -> list:
    """``run`` on the stacked utterances of each length (it returns one result per sample); the results in the
    utterances' order."""
    out = [None] * len(utterances)
    for indices in by_length(utterances).values():
        for i, result in zip(indices, run(np.stack([utterances[i] for i in indices]))):
            out[i] = result
    return out


def pad(utterances) -> tuple[np.ndarray, np.ndarray]:
    """Utterances as one zero-padded (samples, longest, features) array and their frame counts (int32)."""
    lengths = np.array([len(u) for u in utterances], np.int32)
    out = np.zeros((len(utterances), int(lengths.max())) + np.shape(utterances[0])[1:], np.asarray(utterances[0]).dtype)
    for i, u in enumerate(utterances):
        out[i, : len(u)] = u
    return out, lengths


def all_frames(y):
    """Outputs per utterance (a list) as one array of all their frames; an array as it is (to compare outputs)."""
    if not is_utterances(y):
        return np.asarray(y)
    return np.concatenate([np.reshape(v, (-1, np.shape(v)[-1])) for v in y]) if len(y) else np.zeros((0, 0))
