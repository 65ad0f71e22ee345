"""The packaged accelerator data: coverage, provenance, plausibility, and hand-checked values.

These tests read the shipped YAML files (src/chipwatch/data/accelerators/). Spot values are
copied by hand from the cited datasheets, so a wrong edit to a chip file fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import chipwatch
from chipwatch.catalog import Catalog
from chipwatch.catalog.loader import packaged_dir
from chipwatch.catalog.schema import PRECISION_BITS, SOURCE_KEY, Accelerator

REQUIRED_IDS = [
    "a100-sxm", "a800-sxm", "h100-sxm", "h100-pcie", "h800-sxm", "h200-sxm", "h20",
    "l20", "l2", "l40s", "rtx-4090", "rtx-4090d", "b200", "mi250x", "mi300x", "mi308x",
    "mi325x", "gaudi2", "gaudi3", "ascend-910b", "ascend-910c", "mlu590", "tpu-v5e",
    "tpu-v5p", "trainium2",
]  # fmt: skip

DATA_DIR = packaged_dir("accelerators")


def packaged(catalog: Catalog) -> list[Accelerator]:
    return [catalog.chip(i) for i in catalog.ids]


def tpp(acc: Accelerator) -> float:
    """TPP = max over precisions of dense TOPS x bit length (3A090 Technical Note), TF32 excluded.

    TF32's bit length is ambiguous, so these data tests leave it out (see the chips' notes).
    """
    return max(v.value * PRECISION_BITS[p] for p, v in acc.compute.dense.items() if p != "tf32")


# --- coverage and loading ----------------------------------------------------------------


def test_packaged_catalog_loads_without_errors() -> None:
    cat = chipwatch.load_catalog()
    assert cat.errors == []


def test_every_required_chip_is_present(catalog: Catalog) -> None:
    missing = [i for i in REQUIRED_IDS if i not in catalog.ids]
    assert missing == []


def test_catalog_has_at_least_35_chips(catalog: Catalog) -> None:
    assert len(catalog.ids) >= 35


def test_file_name_is_the_chip_id() -> None:
    for path in sorted(DATA_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["id"] == path.stem, path.name


def test_aliases_do_not_collide_with_ids_or_each_other(catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    for acc in packaged(catalog):
        for alias in acc.aliases:
            assert alias not in catalog.ids, f"{acc.id}: alias {alias!r} is another chip's id"
            assert alias not in seen, f"alias {alias!r} used by {seen.get(alias)} and {acc.id}"
            seen[alias] = acc.id


# --- provenance ------------------------------------------------------------------------


def test_every_value_has_a_source_that_resolves(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        for path, value, _unit in acc.sourced_values():
            assert value.source.strip(), f"{acc.id}: {path} has an empty source"
            for part in value.source.split(";"):
                part = part.strip()
                if SOURCE_KEY.match(part):
                    assert part in acc.sources, f"{acc.id}: {path} cites unknown key {part}"


def test_every_citation_carries_a_url_or_a_document_name(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        assert acc.sources, f"{acc.id} has no sources table"
        for key, citation in acc.sources.items():
            assert len(citation) > 20, f"{acc.id}: citation {key} is too short to find"


def test_epoch_data_is_credited_as_cc_by(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        if "EPOCH" in acc.sources:
            assert "Epoch AI" in acc.sources["EPOCH"] and "CC-BY" in acc.sources["EPOCH"]


def test_low_confidence_chips_are_flagged_unverified(catalog: Catalog) -> None:
    # No datasheet exists for these, so their headline numbers must say so.
    for chip_id in ("mlu590", "mi308x"):
        acc = catalog.chip(chip_id)
        assert acc.compute.dense["bf16"].unverified
        assert acc.memory.bandwidth_tbs.unverified


# --- plausibility invariants --------------------------------------------------------------


def test_sparse_is_at_least_dense(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        for p, sparse in acc.compute.sparse.items():
            dense = acc.compute.dense.get(p)
            if dense is not None:
                assert sparse.value >= dense.value, f"{acc.id} {p}"


def test_lower_precision_is_not_slower_on_the_matrix_units(catalog: Catalog) -> None:
    # bf16 <= fp8 <= fp4 wherever both exist (no chip runs fp8 slower than bf16).
    for acc in packaged(catalog):
        for hi, lo in (("bf16", "fp8"), ("fp8", "fp4"), ("fp16", "fp8")):
            a, b = acc.dense(hi), acc.dense(lo)
            if a is not None and b is not None:
                assert a <= b, f"{acc.id}: {hi} {a} > {lo} {b}"


def test_fp64_is_never_faster_than_bf16(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        fp64, bf16 = acc.dense("fp64"), acc.dense("bf16")
        if fp64 is not None and bf16 is not None:
            assert fp64 <= bf16, acc.id


def test_memory_figures_are_in_a_sane_range(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        assert 0.1 <= acc.memory.bandwidth_tbs.value <= 20, acc.id
        assert 8 <= acc.memory.capacity_gb.value <= 400, acc.id


def test_every_chip_has_a_16_bit_rate(catalog: Catalog) -> None:
    # The performance model needs bf16 or fp16 for every chip.
    for acc in packaged(catalog):
        assert acc.dense("bf16") or acc.dense("fp16"), acc.id


def test_memory_dies_never_count_as_processing(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        for die in acc.dies:
            assert not (die.memory_die and die.processing), f"{acc.id}: {die.name}"


def test_ranges_bracket_their_values(catalog: Catalog) -> None:
    # The schema enforces this on load; re-check on the shipped files to catch schema drift.
    for acc in packaged(catalog):
        for path, v, _ in acc.sourced_values():
            if isinstance(v.value, int | float) and not isinstance(v.value, bool):
                assert v.low is None or v.low <= v.value, f"{acc.id} {path}"
                assert v.high is None or v.high >= v.value, f"{acc.id} {path}"


def test_datacenter_flag_matches_segment(catalog: Catalog) -> None:
    for acc in packaged(catalog):
        if acc.segment.value == "consumer":
            assert acc.datacenter_marketed.value is False, acc.id
        if acc.segment.value == "datacenter":
            assert acc.datacenter_marketed.value is True, acc.id


# --- hand-checked values (from the cited datasheets) ----------------------------------------


@pytest.mark.parametrize(
    ("chip_id", "precision", "expected"),
    [
        ("h100-sxm", "bf16", 989.4),  # NVIDIA H100 datasheet: 1,979 sparse / 2
        ("h100-sxm", "fp8", 1978.9),
        ("h20", "int8", 296),  # Tom's Hardware H20 table
        ("h20", "bf16", 148),
        ("a100-sxm", "bf16", 312),  # NVIDIA A100 datasheet
        ("l40s", "fp8", 733),  # NVIDIA L40S datasheet: 1,466 sparse / 2
        ("mi300x", "fp8", 2614.9),  # AMD MI300X datasheet
        ("b200", "fp4", 9000),  # HGX B200: 144 PF sparse FP4 / 8 GPUs / 2
        ("trainium2", "fp8", 1299),  # AWS Neuron Trainium2 architecture page
        ("tpu-v5p", "bf16", 459),  # Google Cloud TPU v5p docs
    ],
)
def test_dense_spot_values(catalog: Catalog, chip_id: str, precision: str, expected: float) -> None:
    assert catalog.chip(chip_id).dense(precision) == pytest.approx(expected)


def test_h20_memory_and_interconnect() -> None:
    h20 = chipwatch.load_catalog().chip("h20")
    assert h20.memory.capacity_gb.value == 96
    assert h20.memory.bandwidth_tbs.value == 4.0
    assert h20.interconnect.scaleup_bidir_gbs is not None
    assert h20.interconnect.scaleup_bidir_gbs.value == 900


def test_a800_differs_from_a100_only_in_nvlink(catalog: Catalog) -> None:
    a100, a800 = catalog.chip("a100-sxm"), catalog.chip("a800-sxm")
    assert a800.dense("int8") == a100.dense("int8") == 624
    assert a100.interconnect.scaleup_bidir_gbs and a800.interconnect.scaleup_bidir_gbs
    assert a100.interconnect.scaleup_bidir_gbs.value == 600  # meets the 2022 I/O threshold
    assert a800.interconnect.scaleup_bidir_gbs.value == 400  # why A800 escaped it


@pytest.mark.parametrize(
    "chip_id", ["a100-sxm", "a800-sxm", "ascend-910b", "ascend-910c", "mi250x"]
)
def test_chips_without_fp8_hardware_have_no_fp8_value(catalog: Catalog, chip_id: str) -> None:
    assert catalog.chip(chip_id).dense("fp8") is None


# --- export-control arithmetic reproduced from the data (reference notes §4.2) ---------------


@pytest.mark.parametrize(
    ("chip_id", "expected_tpp"),
    [
        ("a100-sxm", 4992),  # 624 x 8
        ("a800-sxm", 4992),
        ("h100-sxm", 15832),  # 1,979 x 8
        ("h20", 2368),  # 296 x 8
        ("l20", 1912),  # 239 x 8
        ("l2", 1544),  # 193 x 8
        ("l40s", 5864),  # 733 x 8
        ("rtx-4090", 5285),  # 660.6 x 8
        ("rtx-4090d", 4707),  # 660.6 x 14,592/16,384 x 8
        ("b200", 36000),  # 4,500 x 8
        ("mi250x", 6128),  # 383 x 16
        ("mi300x", 20919),  # 2,614.9 x 8
        ("gaudi3", 29360),  # 1,835 x 16
        ("ascend-910b", 5120),  # 320 x 16
    ],
)
def test_tpp_matches_the_reference_arithmetic(
    catalog: Catalog, chip_id: str, expected_tpp: float
) -> None:
    assert tpp(catalog.chip(chip_id)) == pytest.approx(expected_tpp, rel=0.005)


def test_ascend_910c_uses_the_primary_paper_figure(catalog: Catalog) -> None:
    # CloudMatrix384 paper: 752 TFLOPS dense; the secondary 800 figure is kept as the high end.
    bf16 = catalog.chip("ascend-910c").compute.dense["bf16"]
    assert bf16.value == 752 and bf16.high == 800
    assert tpp(catalog.chip("ascend-910c")) == pytest.approx(752 * 16)


@pytest.mark.parametrize(
    ("chip_id", "expected_pd"),
    [("h100-sxm", 19.45), ("h20", 2.91), ("l20", 3.14), ("rtx-4090", 8.68), ("rtx-4090d", 7.74)],
)
def test_performance_density_from_die_area(
    catalog: Catalog, chip_id: str, expected_pd: float
) -> None:
    acc = catalog.chip(chip_id)
    area = acc.processing_die_area_mm2
    assert area is not None
    assert tpp(acc) / area == pytest.approx(expected_pd, abs=0.01)


def test_rtx_4090d_sits_just_under_the_consumer_threshold(catalog: Catalog) -> None:
    # Note 2 to 3A090: non-datacenter parts below TPP 4,800 are out of scope; the 4090 is above.
    d, full = catalog.chip("rtx-4090d"), catalog.chip("rtx-4090")
    assert not d.datacenter_marketed.value and not full.datacenter_marketed.value
    assert tpp(d) < 4800 <= tpp(full)


def test_chiplet_parts_without_any_area_estimate_have_undefined_density(catalog: Catalog) -> None:
    # No published or analyst figure for every processing die: PD must stay undefined, not guessed.
    for chip_id in ("gaudi3", "mi355x", "tpu-v4", "trainium2"):
        assert catalog.chip(chip_id).processing_die_area_mm2 is None


@pytest.mark.parametrize(
    ("chip_id", "expected_area", "expected_pd"),
    [
        ("b200", 1600, 22.5),  # 2 x ~800 mm2 (estimate), TPP 36,000
        ("mi300x", 2400, 8.72),  # 8 XCD x ~115 + 4 IOD x ~370 (SemiAnalysis), TPP 20,919
        ("mi325x", 2400, 8.72),  # same dies as MI300X
    ],
)
def test_chiplet_density_from_analyst_die_estimates(
    catalog: Catalog, chip_id: str, expected_area: float, expected_pd: float
) -> None:
    acc = catalog.chip(chip_id)
    assert acc.processing_die_area_mm2 == pytest.approx(expected_area)
    assert tpp(acc) / expected_area == pytest.approx(expected_pd, abs=0.01)
    # Estimates, not vendor figures: every processing-die area must carry the unverified flag.
    for die in acc.dies:
        if die.processing:
            assert die.area_mm2 is not None and die.area_mm2.unverified, f"{chip_id}: {die.name}"


def test_mi300_iods_count_towards_applicable_die_area(catalog: Catalog) -> None:
    # BIS: all non-planar logic dies, caches included; the IODs hold the Infinity Cache.
    iods = [d for d in catalog.chip("mi300x").dies if d.name.startswith("IOD")]
    assert len(iods) == 1 and iods[0].count == 4 and iods[0].processing and not iods[0].memory_die


def test_blackwell_die_estimate_respects_the_reticle_limit(catalog: Catalog) -> None:
    for chip_id in ("b200", "gb200", "b300"):
        (die,) = [d for d in catalog.chip(chip_id).dies if d.processing]
        assert die.count == 2 and die.area_mm2 is not None
        assert die.area_mm2.value <= die.area_mm2.high == 858  # 26 x 33 mm reticle


def test_ad104_area_is_nvidias_figure(catalog: Catalog) -> None:
    assert catalog.chip("l4").processing_die_area_mm2 == 294.5
    assert tpp(catalog.chip("l2")) / 294.5 == pytest.approx(5.24, abs=0.01)


def test_yaml_files_are_plain_mappings() -> None:
    # One chip per file, no multi-document tricks.
    for path in sorted(Path(DATA_DIR).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict), path.name


# --- scale-out networking (aggregate bidirectional GB/s per chip, system-level) --------------


@pytest.mark.parametrize(
    ("chip_id", "expected_gbs"),
    [
        ("h200-sxm", 100),  # one 400 Gb/s NIC per GPU: 50 GB/s each way
        ("b200", 100),  # HGX B200: 0.8 TB/s networking per 8 GPUs
        ("b300", 200),  # HGX B300: 8 x 800 Gb/s ConnectX-8
        ("mi300x", 100),  # Azure ND MI300X v5: 8 x 400 Gb/s NDR per 8 GPUs
        ("tpu-v6e", 25),  # 4 x 200 Gb/s NICs per 8-chip host
        ("tpu-v5e", 6.25),  # 2 x 100 Gb/s NICs per 8-chip host
        ("trainium1", 12.5),  # trn1.32xlarge: 800 Gb/s EFA per 16 chips
    ],
)
def test_scaleout_spot_values(catalog: Catalog, chip_id: str, expected_gbs: float) -> None:
    scaleout = catalog.chip(chip_id).interconnect.scaleout_bidir_gbs
    assert scaleout is not None and scaleout.value == pytest.approx(expected_gbs)


def test_scaleout_values_name_the_system_they_describe(catalog: Catalog) -> None:
    # NIC counts belong to servers, not chips: each figure must say which system it comes from.
    for acc in packaged(catalog):
        scaleout = acc.interconnect.scaleout_bidir_gbs
        if scaleout is not None:
            assert scaleout.note, f"{acc.id}: scale-out value without a system note"


def test_cloudmatrix_domain_is_flagged_as_one_system(catalog: Catalog) -> None:
    domain = catalog.chip("ascend-910c").interconnect.scaleup_domain_chips
    assert domain is not None and domain.value == 384
    assert domain.note and "8/16" in domain.note  # also sold in 8- and 16-NPU servers


# --- flagged values, re-checked ---------------------------------------------------------------


def test_tpu_v5p_fp8_is_googles_fp8_row_not_the_int8_rate(catalog: Catalog) -> None:
    v5p = catalog.chip("tpu-v5p")
    assert v5p.dense("fp8") == v5p.dense("bf16") == 459  # Google: no FP8 speed-up on v5p
    assert v5p.dense("int8") == 918
    assert tpp(v5p) == pytest.approx(7344)


def test_ascend_910c_estimates_say_what_they_are(catalog: Catalog) -> None:
    c = catalog.chip("ascend-910c")
    int8 = c.compute.dense["int8"]
    assert int8.unverified and int8.source.startswith("derived:")
    assert int8.value == 2 * c.dense("fp16")  # the 910B's INT8:FP16 ratio, stated in the source
    price = c.price_usd
    assert price is not None and price.unverified
    assert price.low is not None and price.low < price.value  # a range, not a point


# --- chips added for MLPerf Inference coverage ------------------------------------------------


def test_h100_nvl_is_a_bridged_pcie_hopper(catalog: Catalog) -> None:
    nvl = catalog.chip("h100-nvl")
    assert nvl.memory.capacity_gb.value == 94 and nvl.memory.bandwidth_tbs.value == 3.938
    assert nvl.dense("bf16") == 835.5  # Epoch / NVIDIA brief: 1,671 sparse / 2
    assert tpp(nvl) == pytest.approx(13368)  # Epoch's TPP for the H100 NVL
    domain = nvl.interconnect.scaleup_domain_chips
    assert domain is not None and domain.value == 2  # NVLink-bridged pairs


def test_gh200_gpu_side_matches_h100_compute_with_more_memory(catalog: Catalog) -> None:
    gh200, h100 = catalog.chip("gh200"), catalog.chip("h100-sxm")
    assert gh200.dense("int8") == pytest.approx(h100.dense("int8"), rel=0.001)
    assert gh200.memory.capacity_gb.value == 144 and gh200.memory.capacity_gb.low == 96
    assert gh200.memory.bandwidth_tbs.value == 4.9 and gh200.memory.bandwidth_tbs.low == 4.0
    assert gh200.processing_die_area_mm2 == 814  # GH100 only; the Grace CPU is not counted


# --- Chinese accelerators the market model used stand-ins for ---------------------------------


def test_t_head_ppu_publishes_memory_not_flops(catalog: Catalog) -> None:
    ppu = catalog.chip("t-head-ppu")
    assert ppu.vendor_country == "CN" and ppu.family == "t-head-ppu"
    assert ppu.memory.capacity_gb.value == 96 and not ppu.memory.capacity_gb.unverified
    # FLOP/s and bandwidth are not published: ranges anchored on the H20 (148) and A800 (312)
    bf16 = ppu.compute.dense["bf16"]
    assert bf16.unverified and bf16.source.startswith("derived:")
    assert (bf16.low, bf16.value, bf16.high) == (148, 148, 312)
    assert ppu.memory.bandwidth_tbs.unverified and ppu.memory.bandwidth_tbs.low == 1.6
    assert tpp(ppu) == pytest.approx(296 * 8)


def test_hygon_k100_ai_figures_follow_the_spec_table(catalog: Catalog) -> None:
    k100 = catalog.chip("hygon-k100")
    assert k100.dense("bf16") == k100.dense("fp16") == 196
    assert k100.dense("int8") == 2 * k100.dense("fp16")  # 392 TOPS in the same table
    assert k100.dense("fp32") == 2 * k100.dense("fp64") == 49
    assert k100.memory.bandwidth_tbs.value == 0.896 and k100.memory.capacity_gb.value == 64
    assert k100.released.unverified  # month not found: a placeholder, flagged
    assert tpp(k100) == pytest.approx(3136)


def test_metax_c500_is_the_oam_card_with_the_pcie_card_as_the_low_end(catalog: Catalog) -> None:
    c500 = catalog.chip("metax-c500")
    fp16 = c500.compute.dense["fp16"]
    assert (fp16.low, fp16.value) == (240, 280)
    assert c500.dense("bf16") is None  # no BF16 figure found: omitted, not guessed
    assert c500.memory.bandwidth_tbs.value == 1.8 and c500.memory.bandwidth_tbs.unverified
    tdp = c500.tdp_w
    assert tdp is not None and (tdp.low, tdp.value) == (350, 450)
    assert tpp(c500) == pytest.approx(4480)
