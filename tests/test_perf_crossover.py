"""Where two chips trade places: bandwidth wins small decode batches, compute wins large ones."""

from __future__ import annotations

import pytest

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf import PerfInputError
from chipwatch.perf.crossover import crossover


def variant(base: Accelerator, new_id: str, tops: float, bw_tbs: float) -> Accelerator:
    """The same chip with other compute (all 8/16-bit peaks scaled) and memory bandwidth."""
    d = base.model_dump(mode="json")
    d["id"], d["aliases"] = new_id, []
    scale = tops / base.dense("fp8")
    for v in d["compute"]["dense"].values():
        v["value"] = v["value"] * scale
    d["compute"]["sparse"] = {}
    d["memory"]["bandwidth_tbs"]["value"] = bw_tbs
    return Accelerator.model_validate(d)


@pytest.fixture(scope="module")
def pair(catalog):  # type: ignore[no-untyped-def]
    h20 = catalog.chip("h20")
    bandwidth_rich = variant(h20, "bw-rich", tops=300, bw_tbs=4.0)  # ridge ~75 FLOP/B
    compute_rich = variant(h20, "flop-rich", tops=900, bw_tbs=1.6)  # ridge ~560 FLOP/B
    return bandwidth_rich, compute_rich


def test_bandwidth_wins_small_batches_and_compute_wins_large(pair):
    # FP8 KV cache (the scenario of a bandwidth/compute trade, not the engines' BF16 default)
    r = crossover(list(pair), "llama-3.1-8b", num_chips=1, calibration=False, kv_precision="fp8")
    fitting = [p for p in r.points if p.leader]
    first, last = fitting[0], fitting[-1]
    assert first.leader == "bw-rich" and first.decode_bound["bw-rich"] == "memory"
    assert last.leader == "flop-rich"
    # at batch 1 decode is a weight read: the throughput ratio is the bandwidth ratio
    ratio = (
        first.decode_tokens_per_s_per_chip["bw-rich"]
        / first.decode_tokens_per_s_per_chip["flop-rich"]
    )
    assert ratio == pytest.approx(4.0 / 1.6, rel=0.05)
    assert len(r.flips) == 1
    flip = r.flips[0]
    assert (flip.from_chip, flip.to_chip) == ("bw-rich", "flop-rich")
    assert flip.bound_after["bw-rich"] == "compute"  # it lost because its compute ran out
    assert r.prefill_leader == "flop-rich"
    assert "bw-rich leads decode at batch 1" in r.summary


def test_order_of_chips_does_not_change_the_answer(pair):
    a = crossover(list(pair), "llama-3.1-8b", num_chips=1, calibration=False)
    b = crossover(list(reversed(pair)), "llama-3.1-8b", num_chips=1, calibration=False)
    assert [p.leader for p in a.points] == [p.leader for p in b.points]


def test_a_batch_that_does_not_fit_is_reported_not_dropped(catalog):
    r = crossover(
        [catalog.chip("h20"), catalog.chip("ascend-910b")],
        "llama-3.1-70b",
        num_chips=1,
        precision="fp8",
        batches=[1, 4096],
        calibration=False,
    )
    big = r.points[-1]
    assert big.decode_tokens_per_s_per_chip["ascend-910b"] is None
    assert "does not fit" in big.why_not["ascend-910b"]


def test_needs_two_chips(catalog):
    with pytest.raises(PerfInputError, match="at least two chips"):
        crossover([catalog.chip("h20")], "llama-3.1-8b")
