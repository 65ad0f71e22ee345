"""Invariants of the classifier, checked with hypothesis over hypothetical chips."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from chipwatch.controls import ChipSpec, classify
from chipwatch.workspace import default_workspace

WS = default_workspace()
DATES = st.sampled_from(
    [
        dt.date(2023, 6, 1),
        dt.date(2024, 1, 15),
        dt.date(2024, 6, 1),
        dt.date(2025, 3, 1),
        dt.date(2025, 9, 1),
        dt.date(2026, 3, 1),
    ]
)
DESTS = st.sampled_from(["CN", "MO", "AE", "VN", "DE", "IN", "RU", "SG"])
TPP = st.floats(min_value=0, max_value=60000, allow_nan=False)
AREA = st.floats(min_value=50, max_value=3000, allow_nan=False)
IO = st.floats(min_value=0, max_value=2000, allow_nan=False)
DRAM = st.floats(min_value=100, max_value=10000, allow_nan=False)


def level(
    tpp: float, area: float, dc: bool, on: dt.date, dest: str, io: float, dram: float
) -> tuple[int, bool]:
    spec = ChipSpec(tpp=tpp, die_area_mm2=area, datacenter=dc, io_bidir_gbs=io, dram_bw_gbs=dram)
    c = classify(spec, on, dest, ws=WS)
    return c.control_level, c.license_required


@settings(max_examples=150, deadline=None)
@given(TPP, st.floats(min_value=0, max_value=20000), AREA, st.booleans(), DATES, DESTS, IO, DRAM)
def test_raising_tpp_never_lowers_the_eccn_level(tpp, extra, area, dc, on, dest, io, dram):  # type: ignore[no-untyped-def]
    lo = level(tpp, area, dc, on, dest, io, dram)
    hi = level(tpp + extra, area, dc, on, dest, io, dram)
    assert hi[0] >= lo[0]
    assert hi[1] or not lo[1]  # a license requirement never disappears


@settings(max_examples=150, deadline=None)
@given(TPP, AREA, st.floats(min_value=0.1, max_value=1.0), st.booleans(), DATES, DESTS, IO, DRAM)
def test_raising_pd_never_lowers_the_eccn_level(tpp, area, shrink, dc, on, dest, io, dram):  # type: ignore[no-untyped-def]
    # Same TPP on a smaller die = higher performance density.
    lo = level(tpp, area, dc, on, dest, io, dram)
    hi = level(tpp, area * shrink, dc, on, dest, io, dram)
    assert hi[0] >= lo[0]
    assert hi[1] or not lo[1]


@settings(max_examples=150, deadline=None)
@given(TPP, AREA, DATES, DESTS, IO, DRAM)
def test_non_datacenter_never_more_controlled_than_datacenter(tpp, area, on, dest, io, dram):  # type: ignore[no-untyped-def]
    non_dc = level(tpp, area, False, on, dest, io, dram)
    dc = level(tpp, area, True, on, dest, io, dram)
    assert non_dc[0] <= dc[0]
    assert dc[1] or not non_dc[1]


@settings(max_examples=60, deadline=None)
@given(TPP, AREA, st.booleans(), DATES)
def test_us_destination_never_needs_a_license(tpp, area, dc, on):  # type: ignore[no-untyped-def]
    c = classify(ChipSpec(tpp=tpp, die_area_mm2=area, datacenter=dc), on, "US", ws=WS)
    assert not c.license_required


def _restriction(c) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from chipwatch.controls.rules import POLICY_RANK, Policy

    lic = {None: 1, False: 0, True: 2}[c.license_required]
    return lic, POLICY_RANK.get(
        Policy(c.licensing_policy), 0
    ) if c.licensing_policy in Policy.__members__ else 0


@settings(max_examples=120, deadline=None)
@given(TPP, AREA, st.booleans(), DATES, DESTS, DRAM)
def test_d5_headquarters_never_less_restrictive(tpp, area, dc, on, dest, dram):  # type: ignore[no-untyped-def]
    spec = ChipSpec(tpp=tpp, die_area_mm2=area, datacenter=dc, dram_bw_gbs=dram)
    elsewhere = classify(spec, on, dest, headquarters="DE")
    d5 = classify(spec, on, dest, headquarters="CN")
    assert d5.license_required or not elsewhere.license_required
    if d5.license_required == elsewhere.license_required:
        assert _restriction(d5)[1] >= _restriction(elsewhere)[1]


@settings(max_examples=120, deadline=None)
@given(TPP, AREA, st.booleans(), DATES, DESTS, DRAM)
def test_undetermined_never_yields_false(tpp, area, dc, on, dest, dram):  # type: ignore[no-untyped-def]
    """If the engine says 'no license' without the die area, no die area can make it 'yes'."""
    unknown = classify(
        ChipSpec(tpp=tpp, datacenter=dc, dram_bw_gbs=dram), on, dest
    ).license_required
    known = classify(
        ChipSpec(tpp=tpp, die_area_mm2=area, datacenter=dc, dram_bw_gbs=dram), on, dest
    ).license_required
    if unknown is False:
        assert known is False
    if unknown is True:
        assert known is True
