"""Chip table columns shared by the dashboard's Chips page and the report: (flat field, label)."""

from __future__ import annotations

from chipwatch.i18n import N_

HEADLINE_COLUMNS = [
    ("tflops_bf16_dense", N_("BF16 TFLOPS")),
    ("tflops_fp8_dense", N_("FP8 TFLOPS")),
    ("tops_int8_dense", N_("INT8 TOPS")),
    ("mem_gb", N_("memory GB")),
    ("mem_bw_tbs", N_("mem BW TB/s")),
    ("scaleup_bidir_gbs", N_("scale-up GB/s")),
    ("die_area_mm2", N_("die mm²")),
    ("tdp_w", N_("TDP W")),
    ("price_usd", N_("price USD")),
]
