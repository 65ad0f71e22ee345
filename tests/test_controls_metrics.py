"""TPP, performance density and the I/O / DRAM metrics, against hand-worked examples."""

from __future__ import annotations

import pytest

from chipwatch.controls import metrics
from chipwatch.controls.spec import ChipSpec


def test_tpp_is_dense_tops_times_bit_length_highest_over_precisions() -> None:
    # H100 SXM datasheet: FP8 1979 dense (3958 sparse / 2), FP16 989.5 -> both give 15,832.
    tpp, prec = metrics.tpp_from_dense({"fp8": 1979, "fp16": 989.5, "fp64": 67})
    assert tpp == pytest.approx(15832)
    assert prec == "fp8"  # ties prefer the 8-bit format


def test_bis_worked_example_600_int8_tops_or_300_fp16_tflops_is_4800() -> None:
    # 88 FR 73458: "4800 can be met with 600 tera integer operations at 8 bits
    # or 300 tera FLOPS at 16 bits"
    assert metrics.tpp_from_dense({"int8": 600})[0] == 4800
    assert metrics.tpp_from_dense({"bf16": 300})[0] == 4800


def test_fp4_counts_at_four_bits() -> None:
    # B200: FP4 9,000 dense x 4 = FP8 4,500 x 8 = 36,000
    tpp, _ = metrics.tpp_from_dense({"fp4": 9000, "fp8": 4500})
    assert tpp == pytest.approx(36000)


def test_tf32_does_not_set_tpp_but_is_reported() -> None:
    # Trainium2-like: TF32 quoted at the BF16 rate; x32 would double TPP.
    dense = {"bf16": 667, "tf32": 667}
    assert metrics.tpp_from_dense(dense)[0] == pytest.approx(10672)
    assert metrics.tf32_reading(dense) == pytest.approx(21344)
    # NVIDIA-style TF32 at half the FP16 rate changes nothing.
    assert metrics.tf32_reading({"fp16": 148, "tf32": 74}) is None


def test_performance_density_is_tpp_over_area_and_undefined_without_area() -> None:
    # H20: 2,368 / 814 = 2.909
    assert metrics.performance_density(2368, 814) == pytest.approx(2.909, abs=1e-3)
    assert metrics.performance_density(2368, None) is None
    assert metrics.performance_density(None, 814) is None


def test_catalog_h20_metrics(catalog) -> None:  # type: ignore[no-untyped-def]
    h20 = catalog.chip("h20")
    assert metrics.tpp(h20) == (pytest.approx(2368), "fp8")
    assert metrics.applicable_die_area_mm2(h20) == pytest.approx(814)
    assert metrics.dram_bw_gbs(h20) == pytest.approx(4000)
    # NVLink 900 + PCIe Gen5 x16 128 (2022 I/O counts every non-memory I/O)
    assert metrics.io_bidir_gbs(h20) == pytest.approx(1028)


def test_a800_io_is_below_the_2022_threshold(catalog) -> None:  # type: ignore[no-untyped-def]
    # NVLink cut to 400 GB/s + PCIe Gen4 x16 64 GB/s = 464 < 600
    assert metrics.io_bidir_gbs(catalog.chip("a800-sxm")) == pytest.approx(464)


def test_spec_pd_from_flags() -> None:
    s = ChipSpec(name="x", tpp=1948.8, die_area_mm2=609)
    assert s.performance_density == pytest.approx(3.2)
