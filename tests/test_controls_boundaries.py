"""Exact boundaries as the rules word them: just below, at and just above every threshold.

"of X or more" includes X; "less than X" and "greater than X" exclude it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from chipwatch.controls import ChipSpec, classify

D2024 = dt.date(2024, 6, 1)
D2022 = dt.date(2023, 6, 1)
EPS = 1e-6


def eccn(
    tpp: float, pd: float, on: dt.date = D2024, datacenter: bool = True, io: float | None = None
) -> str | None:
    # Fix the area at 1000 mm2 so that TPP = PD x 1000 is easy to read.
    area = tpp / pd
    spec = ChipSpec(name="t", tpp=tpp, die_area_mm2=area, datacenter=datacenter, io_bidir_gbs=io)
    c = classify(spec, on, "CN")
    return c.eccn


@pytest.mark.parametrize(
    ("tpp", "pd", "expected"),
    [
        # 3A090.a.1: TPP of 4800 or more
        (4800 - EPS, 1.0, None),
        (4800, 1.0, "3A090.a.1"),
        (4800 + EPS, 1.0, "3A090.a.1"),
        # 3A090.a.2: TPP 1600 or more and PD 5.92 or more
        (1600 - EPS, 5.92, None),
        (1600, 5.92, "3A090.a.2"),
        (2000, 5.92 - EPS, "3A090.b.2"),  # just below 5.92 falls to b.2 (PD >= 3.2)
        (2000, 5.92, "3A090.a.2"),
        # 3A090.b.1: TPP 2400 or more but less than 4800, PD 1.6 or more but less than 5.92
        (2400 - EPS, 2.0, None),
        (2400, 2.0, "3A090.b.1"),
        (2400, 1.6 - EPS, None),
        (2400, 1.6, "3A090.b.1"),
        (4800 - EPS, 2.0, "3A090.b.1"),
        # 3A090.b.2: TPP 1600 or more, PD 3.2 or more but less than 5.92
        (2000, 3.2 - EPS, None),
        (2000, 3.2, "3A090.b.2"),
        (1600 - EPS, 4.0, None),
        (1600, 4.0, "3A090.b.2"),
    ],
)
def test_2023_paragraph_boundaries(tpp: float, pd: float, expected: str | None) -> None:
    assert eccn(tpp, pd) == expected


@pytest.mark.parametrize(
    ("tpp", "expected"),
    [(4800 - EPS, None), (4800, "3A090.a.1"), (4800 + EPS, "3A090.a.1")],
)
def test_note_2_non_datacenter_boundary(tpp: float, expected: str | None) -> None:
    # PD 7.7 would be a.2 for a datacenter part; Note 2 excludes non-DC parts below 4800.
    assert eccn(tpp, 7.7, datacenter=False) == expected
    if expected is None:
        c = classify(ChipSpec(tpp=tpp, die_area_mm2=tpp / 7.7, datacenter=False), D2024)
        assert c.excluded_by == "Note 2 to 3A090"


@pytest.mark.parametrize(
    ("tpp", "io", "expected"),
    [
        (4800, 600 - EPS, None),
        (4800, 600, "3A090.a"),
        (4800 - EPS, 600, None),
        (4800 + EPS, 600 + EPS, "3A090.a"),
    ],
)
def test_2022_conjunction_boundaries(tpp: float, io: float, expected: str | None) -> None:
    assert eccn(tpp, 10.0, on=D2022, io=io) == expected


@pytest.mark.parametrize(
    ("tpp", "dram", "policy"),
    [
        (21000 - EPS, 6500 - EPS, "case_by_case"),
        (21000, 6500 - EPS, "presumption_of_denial"),  # "less than 21,000"
        (15000, 6500, "presumption_of_denial"),  # "less than 6,500 GB/s"
        (15000, 6500 - EPS, "case_by_case"),
    ],
)
def test_2026_review_policy_band_boundaries(tpp: float, dram: float, policy: str) -> None:
    spec = ChipSpec(tpp=tpp, die_area_mm2=800, dram_bw_gbs=dram)
    c = classify(spec, dt.date(2026, 3, 1), "CN")
    assert c.eccn == "3A090.a.1"
    assert c.license_required
    assert c.licensing_policy == policy


def test_2026_band_needs_dram_bandwidth() -> None:
    c = classify(ChipSpec(tpp=15000, die_area_mm2=800), dt.date(2026, 3, 1), "CN")
    assert c.licensing_policy == "presumption_of_denial"
    # the band could apply: the answer says it was not decided and what it would need
    assert any(
        "Review policy not decided: r7-cbc-band" in a and "DRAM bandwidth" in a
        for a in c.assumptions
    )


def test_hbm_paragraph_is_greater_than_2_and_only_for_hbm_commodities() -> None:
    on = dt.date(2025, 1, 1)
    at = classify(ChipSpec(kind="hbm", memory_bandwidth_density=2.0), on, "CN")
    above = classify(ChipSpec(kind="hbm", memory_bandwidth_density=2.0 + EPS), on, "CN")
    assert at.eccn is None  # "greater than 2"
    assert above.eccn == "3A090.c"
    assert above.license_required
    before = classify(ChipSpec(kind="hbm", memory_bandwidth_density=3.0), dt.date(2024, 11, 1))
    assert before.eccn is None  # 3A090.c effective 2024-12-02
