"""Hand-worked classifications of real catalog chips across rule versions (destination China).

Expected values are worked by hand from the rule text and the chip's datasheet numbers (see
docs/export-controls.md and the ground-truth table in the shared reference note).
"""

from __future__ import annotations

import datetime as dt

import pytest

from chipwatch.controls import ChipSpec, classify

OCT22 = dt.date(2023, 6, 1)  # October 2022 rule (+ Macau)
R2 = dt.date(2024, 1, 15)  # October 2023 rule, before the April 2024 corrections
R3 = dt.date(2024, 6, 1)  # after the NAC/ACA split
APR25 = dt.date(2025, 5, 1)  # after the April 2025 H20/MI308 letters
AUG25 = dt.date(2025, 9, 1)  # licences with revenue share
DEC25 = dt.date(2025, 12, 20)  # H200 announcement
R7 = dt.date(2026, 3, 1)  # January 2026 case-by-case band


def c(catalog, chip: str, on: dt.date, dest: str = "CN", hq: str | None = None):  # type: ignore[no-untyped-def]
    return classify(catalog.chip(chip), on, dest, headquarters=hq)


# (chip, TPP by hand, PD by hand or None)
TPP_PD = [
    ("a100-sxm", 624 * 8, 4992 / 826),
    ("a800-sxm", 624 * 8, 4992 / 826),
    ("h100-sxm", 1979 * 8, 15832 / 814),
    ("h800-sxm", 1979 * 8, 15832 / 814),
    ("h200-sxm", 1979 * 8, 15832 / 814),
    ("h20", 296 * 8, 2368 / 814),
    ("l20", 239 * 8, 1912 / 609),
    ("l2", 193 * 8, 1544 / 294.5),
    ("l40s", 733 * 8, 5864 / 609),
    ("rtx-4090", 660.6 * 8, 5285 / 609),
    ("rtx-4090d", 588.4 * 8, 4707 / 609),
    ("mi250x", 383 * 16, None),
    ("mi300x", 2614.9 * 8, None),
    ("b200", 4500 * 8, None),
    ("gaudi3", 1835 * 16, None),
]


@pytest.mark.parametrize(("chip", "tpp", "pd"), TPP_PD)
def test_tpp_and_pd_by_hand(catalog, chip: str, tpp: float, pd: float | None) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, chip, R3)
    assert r.tpp == pytest.approx(tpp, rel=0.01)
    if pd is not None and r.performance_density is not None:
        assert r.performance_density == pytest.approx(pd, rel=0.02)


def test_a800_h800_outside_2022_rule_then_controlled_from_november_2023(catalog) -> None:  # type: ignore[no-untyped-def]
    for chip in ("a800-sxm", "h800-sxm"):
        before = c(catalog, chip, OCT22)
        assert before.eccn is None  # I/O 464 / 528 GB/s < 600 GB/s
        assert not before.license_required
        io = next(t for t in before.tests if t.metric == "io_bidir_gbs")
        assert io.passed is False
        after = c(catalog, chip, dt.date(2023, 11, 17))
        assert after.eccn == "3A090.a.1"  # TPP >= 4800
        assert after.license_required
        assert after.licensing_policy == "presumption_of_denial"


@pytest.mark.parametrize("chip", ["a100-sxm", "h100-sxm"])
@pytest.mark.parametrize("on", [OCT22, R2, R3, APR25, AUG25])
def test_a100_h100_controlled_throughout(catalog, chip: str, on: dt.date) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, chip, on)
    assert r.eccn in ("3A090.a", "3A090.a.1")
    assert r.license_required
    assert any(a.id == "2022-08-nvidia-a100-h100-letter" for a in r.actions)


def test_h20_l20_l2_under_2023_thresholds(catalog) -> None:  # type: ignore[no-untyped-def]
    h20 = c(catalog, "h20", R3)
    assert h20.eccn is None and not h20.license_required
    # H20: TPP 2368 < 2400 (b.1) and PD 2.91 < 3.2 (b.2)
    near = {t.scope: t for t in h20.nearest}
    assert near["3A090.b.1"].margin == pytest.approx(-32, abs=1)
    l20 = c(catalog, "l20", R3)
    assert l20.eccn is None  # TPP 1912 < 2400 and PD 3.14 < 3.2
    assert l20.performance_density is not None and l20.performance_density < 3.2
    l2 = c(catalog, "l2", R3)
    assert l2.eccn is None  # TPP 1544 < 1600: below every prong
    assert l2.tpp is not None and l2.tpp < 1600


def test_rtx_4090_vs_4090d_under_note_2(catalog) -> None:  # type: ignore[no-untyped-def]
    r4090 = c(catalog, "rtx-4090", R3)
    assert r4090.eccn == "3A090.a.1"  # non-DC but TPP 5285 >= 4800
    assert not r4090.license_required
    assert r4090.licensing_policy == "license_exception_nac"
    assert c(catalog, "rtx-4090", R3, "VN").licensing_policy == "license_exception_aca"
    r4090d = c(catalog, "rtx-4090d", R3)
    # PD 7.7 would be a.2, but non-DC and TPP 4707 < 4800 (Note 2). The 4707 is unverified and
    # 1.9% under the line, so Note 2 is not taken as decided; either way no license is needed
    # (a non-datacenter 3A090.a item goes under NAC), so the answer is determined.
    assert r4090d.eccn is None and "3A090.a.2" in r4090d.undetermined
    assert r4090d.excluded_by is None
    assert r4090d.license_required is False and r4090d.status == "determined"
    verified = ChipSpec(name="4090d-verified", tpp=4707, die_area_mm2=608.5, datacenter=False)
    assert classify(verified, R3, "CN").excluded_by == "Note 2 to 3A090"


def test_h20_from_april_2025_and_licences_from_august(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "h20", APR25)
    assert r.eccn is None
    assert r.license_required
    assert [a.id for a in r.actions] == ["2025-04-nvidia-h20-letter"]
    assert r.actions[0].bound_by == "id"
    assert c(catalog, "h20", dt.date(2025, 4, 8)).license_required is False
    aug = c(catalog, "h20", AUG25)
    assert aug.license_required and aug.licensing_policy == "approval_with_conditions"
    # The letter reaches Macau and D:5 too, and D:5-headquartered buyers elsewhere.
    assert c(catalog, "h20", APR25, "RU").license_required
    assert c(catalog, "h20", APR25, "SG", hq="CN").license_required
    assert not c(catalog, "h20", APR25, "SG").license_required


def test_mi308x_letter(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "mi308x", APR25)
    assert r.license_required
    assert any(a.id == "2025-04-amd-mi308-letter" for a in r.actions)
    assert not c(catalog, "mi308x", R3).license_required


def test_h200_policy_path(catalog) -> None:  # type: ignore[no-untyped-def]
    # Catalog release 2024-11: no ruling before it.
    assert c(catalog, "h200-sxm", R3).status == "not_released"
    assert c(catalog, "h200-sxm", dt.date(2025, 2, 1)).licensing_policy == "presumption_of_denial"
    # The 2025-12-08 announcement is not a licensing policy: the law in force still applies.
    dec = c(catalog, "h200-sxm", DEC25)
    assert dec.licensing_policy == "presumption_of_denial"
    assert any(a.id == "2025-12-h200-decision" and not a.applied for a in dec.actions)
    assert any("announced 2025-12-08" in x for x in dec.context)
    r7 = c(catalog, "h200-sxm", R7)
    assert r7.eccn == "3A090.a.1" and r7.license_required
    assert r7.licensing_policy == "case_by_case"  # TPP 15,832 < 21,000; 4,800 < 6,500 GB/s
    assert any(t.scope == "r7-cbc-band" and t.passed for t in r7.tests)
    # Re-export policy for D:5 elsewhere stays presumption of denial
    assert c(catalog, "h200-sxm", R7, "RU").licensing_policy == "presumption_of_denial"


def test_b200_outside_the_2026_band(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "b200", R7)
    assert r.eccn == "3A090.a.1"  # TPP 36,000; PD unknown (two dies, area unverified)
    assert r.licensing_policy == "presumption_of_denial"


def test_mi300x_inside_band_by_numbers(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "mi300x", R7)
    assert r.licensing_policy == "case_by_case"  # 20,919 < 21,000; 5,300 < 6,500


def test_mi250x_caught_in_2022(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "mi250x", OCT22)
    assert r.eccn == "3A090.a"  # TPP 6128 and Infinity Fabric >= 600 GB/s
    assert r.license_required
    assert c(catalog, "mi250x", R3).licensing_policy == "presumption_of_denial"


def test_l40s_and_l40(catalog) -> None:  # type: ignore[no-untyped-def]
    assert c(catalog, "l40s", OCT22).eccn is None  # PCIe only: I/O < 600
    assert c(catalog, "l40s", R3).eccn == "3A090.a.1"  # TPP 5864
    l40 = c(catalog, "l40", R3)
    assert l40.eccn == "3A090.b.1"  # TPP 2896, PD 4.76
    assert l40.licensing_policy == "license_exception_nac"


def test_gaudi2_exactly_at_600_gbs_in_2022(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "gaudi2", OCT22)
    assert r.eccn == "3A090.a"  # 24 x 100 GbE = 600 GB/s ("600 Gbyte/s or more")


def test_destination_scope_2023(catalog) -> None:  # type: ignore[no-untyped-def]
    h100 = catalog.chip("h100-sxm")
    assert classify(h100, R3, "AE").licensing_policy == "presumption_of_approval"  # D:4
    assert classify(h100, R3, "IL").license_required is False  # D:4 but also A:6
    assert classify(h100, R3, "DE").license_required is False
    assert classify(h100, R3, "MO").licensing_policy == "presumption_of_denial"
    assert classify(h100, R3, "HK").licensing_policy == "presumption_of_denial"
    assert classify(h100, R3, "AE", headquarters="CN").licensing_policy == "presumption_of_denial"
    assert classify(h100, R3, "MY", headquarters="CN").license_required  # HQ rule
    assert classify(h100, OCT22, "AE").license_required is False  # 2022 rule: China only


def test_macau_added_in_january_2023(catalog) -> None:  # type: ignore[no-untyped-def]
    h100 = catalog.chip("h100-sxm")
    assert classify(h100, dt.date(2022, 12, 1), "MO").license_required is False
    assert classify(h100, dt.date(2023, 2, 1), "MO").license_required is True


def test_ai_diffusion_listed_but_never_applied(catalog) -> None:  # type: ignore[no-untyped-def]
    h100 = catalog.chip("h100-sxm")
    mar = classify(h100, dt.date(2025, 3, 1), "IN")  # Tier 2, A:5: no license before/after
    assert "2025-01-ai-diffusion" in [r.id for r in mar.rule_sets]
    assert not mar.license_required
    assert any("compliance is not required" in n for n in mar.notes)
    jun = classify(h100, dt.date(2025, 6, 1), "IN")
    assert "2025-01-ai-diffusion" not in [r.id for r in jun.rule_sets]
    assert any("not_enforced since 2025-05-13" in x for x in jun.context)


def test_hbm_paragraph_not_applied_to_accelerators(catalog) -> None:  # type: ignore[no-untyped-def]
    r = c(catalog, "h20", dt.date(2025, 3, 1))
    assert "3A090.c" not in r.paragraphs_met
    assert any("co-packaged" in n for n in r.notes)


def test_april_2025_letter_binds_by_parameters(catalog) -> None:  # type: ignore[no-untyped-def]
    # "any other circuits achieving the H20's memory bandwidth, interconnect bandwidth, or
    # combination thereof": H200 (4,800 GB/s HBM, 900 GB/s NVLink) yes; H800 (3,350; 400) no.
    h200 = c(catalog, "h200-sxm", APR25)
    bound = {a.id: a.bound_by for a in h200.actions}
    assert bound["2025-04-nvidia-h20-letter"] == "parameters"
    h800 = c(catalog, "h800-sxm", APR25)
    assert "2025-04-nvidia-h20-letter" not in {a.id for a in h800.actions}
    # A hypothetical non-3A090 NVIDIA part with H20-class memory is caught; another vendor's is not.
    from chipwatch.controls import ChipSpec

    nv = ChipSpec(name="nv-x", vendor="NVIDIA", tpp=1000, die_area_mm2=800, dram_bw_gbs=4000)
    other = ChipSpec(name="y", vendor="Acme", tpp=1000, die_area_mm2=800, dram_bw_gbs=4000)
    assert classify(nv, APR25, "CN").license_required
    assert not classify(other, APR25, "CN").license_required
