"""``masr-hls selfcheck``: every bundled module bit-exact against the reference, with utilisation a share of cycles."""

import numpy as np
import pytest

from masr_hls.cli.main import main
from masr_hls.csim import selfcheck

pytestmark = pytest.mark.csim


def test_small_checks_are_bit_exact_and_utilisation_is_at_most_one(monkeypatch, capsys):
    # The command's checks at small sizes (its own defaults build the same libraries with larger matrices).
    small = [
        lambda rng: selfcheck.check_engine(rng, n_out=24, n_in=20, lanes=4, frames=3),
        lambda rng: selfcheck.check_bidirectional_gru(rng, n_in=6, units=5, lanes=2, frames=4),
        lambda rng: selfcheck.check_head(rng, n_in=12, n_out=5, lanes=2, frames=3),
    ]
    monkeypatch.setattr(selfcheck, "CHECKS", small)
    assert main(["selfcheck"]) == 0
    out = capsys.readouterr().out
    assert "all 16 checks bit-exact" in out
    results = selfcheck.run()
    assert [r.module for r in results] == ["sparse_mxv"] * 9 + ["bidirectional"] * 6 + ["dense_head"]
    for r in results:
        assert r.ok and 0 < r.ideal <= r.cycles, r  # ideal cycles never exceed the engines' counted cycles
    # Sparser weights, fewer engine cycles in the MASR mode (both directions' engines counted).
    masr = [r.cycles for r in results if r.module == "bidirectional" and r.case.endswith("masr")]
    assert masr[1] < masr[0]
    assert np.isclose(results[0].utilisation, results[0].ideal / results[0].cycles)
