"""Chip table columns shared by the dashboard's Chips page and the report: (flat field, label)."""

from __future__ import annotations

HEADLINE_COLUMNS = [
    ("tflops_bf16_dense", "BF16 TFLOPS"),
    ("tflops_fp8_dense", "FP8 TFLOPS"),
    ("tops_int8_dense", "INT8 TOPS"),
    ("mem_gb", "memory GB"),
    ("mem_bw_tbs", "mem BW TB/s"),
    ("scaleup_bidir_gbs", "scale-up GB/s"),
    ("die_area_mm2", "die mm²"),
    ("tdp_w", "TDP W"),
    ("price_usd", "price USD"),
]
