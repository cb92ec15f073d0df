"""Row-to-lane assignment for the sparse matrix-vector engine.

Each output row is computed by one lane; a lane's time is the work of its
rows, so the engine finishes when its busiest lane does.  Balancing the
non-zero weights per lane keeps utilisation high as lanes grow.
"""

from __future__ import annotations

import heapq

import numpy as np

STRATEGIES = ("balanced", "interleaved")
BALANCING = ("static", "dynamic")  # rows tied to lanes at conversion, or taken by the lanes of a bank at run time


def assign_rows(row_work: np.ndarray, lanes: int, strategy: str = "balanced") -> np.ndarray:
    """Lane index for every row.

    ``balanced``: longest-processing-time greedy on ``row_work`` (e.g. the
    non-zeros of each row): heaviest row first, onto the least-loaded lane.
    ``interleaved``: row i on lane i mod lanes, as EIE interleaves its PEs.
    """
    row_work = np.asarray(row_work, dtype=np.int64)
    if not isinstance(lanes, (int, np.integer)) or lanes < 1:
        raise ValueError(f"lanes must be a positive integer, got {lanes!r}")
    if strategy == "interleaved":
        return np.arange(row_work.size, dtype=np.int64) % lanes
    if strategy != "balanced":
        raise ValueError(f"unknown lane assignment strategy {strategy!r}; use one of {STRATEGIES}")
    lane_of_row = np.zeros(row_work.size, dtype=np.int64)
    heap = [(0, 0, lane) for lane in range(lanes)]  # (work, rows, lane): ties go to the lane with fewer rows
    for row in np.argsort(-row_work, kind="stable"):
        work, rows, lane = heapq.heappop(heap)
        lane_of_row[row] = lane
        heapq.heappush(heap, (work + int(row_work[row]), rows + 1, lane))
    return lane_of_row


def bank_slots(lane_of_row: np.ndarray, banks: int, heavy_first: np.ndarray | None = None) -> list[np.ndarray]:
    """Each bank's rows in slot order: row order, or (given each row's work) heaviest first, ties in row order.

    Heaviest first is the order in which the lanes sharing a bank take its rows at run time: the light
    rows come last and even out the lanes' finishing times (longest-processing-time first).
    """
    lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
    order = np.arange(lane_of_row.size) if heavy_first is None else np.argsort(-np.asarray(heavy_first), kind="stable")
    return [order[lane_of_row[order] == bank] for bank in range(banks)]


def lane_loads(row_work: np.ndarray, lane_of_row: np.ndarray, lanes: int) -> np.ndarray:
    return np.bincount(np.asarray(lane_of_row), weights=np.asarray(row_work), minlength=lanes).astype(np.int64)


def row_work(matrix: np.ndarray, mode: str) -> np.ndarray:
    """What a row costs a lane: its non-zeros in the sparse modes; its length in a dense array."""
    matrix = np.asarray(matrix)
    if mode == "dense":
        return np.full(matrix.shape[0], matrix.shape[1], dtype=np.int64)
    return np.count_nonzero(matrix, axis=1)
