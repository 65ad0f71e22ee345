"""Request models of the performance model's operations: one per operation, shared by the CLI,
the API (bodies and query models) and the dashboard forms (their defaults)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ChipId = Annotated[str, Field(min_length=1, max_length=64, examples=["h20"])]


class Workload(BaseModel):
    """A serving workload: the model, how many chips, and the request shape."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("llama-3.1-70b", min_length=1, max_length=64, description="model id")
    num_chips: int = Field(8, ge=1, le=65536)
    batch: int | Literal["auto"] = Field("auto", description="sequences in flight, or auto")
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    precision: str = Field("fp8", max_length=8, description="fp8, bf16, int8, fp4 or int4")
    tp: int | None = Field(None, ge=1, le=65536)
    pp: int | None = Field(None, ge=1, le=65536)
    ep: int | None = Field(None, ge=1, le=65536)
    dp: int | None = Field(None, ge=1, le=65536)
    replicas: int | None = Field(
        None, ge=1, le=65536, description="independent copies (chosen if left out)"
    )
    max_tpot_ms: float | None = Field(None, gt=0, description="latency limit per output token")
    max_ttft_ms: float | None = Field(None, gt=0, description="latency limit to first token")
    calibration: bool = Field(True, description="false: pure roofline, no fitted efficiencies")


class InferRequest(Workload):
    chip: ChipId = "h20"


class CompareRequest(Workload):
    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "h100-sxm"], min_length=1, max_length=16
    )


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chip: ChipId = "h20"
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(1024, ge=1, le=1_000_000)
    tokens: float = Field(1e12, gt=0, le=1e16, description="training tokens")
    seq_len: int = Field(4096, ge=1, le=1_000_000)
    global_batch_tokens: int = Field(4_194_304, ge=1, le=10**10)
    precision: str = Field("bf16", max_length=8)
    tp: int | None = Field(None, ge=1, le=65536)
    pp: int | None = Field(None, ge=1, le=65536)
    ep: int | None = Field(None, ge=1, le=65536)
    zero_stage: Literal[0, 1, 2, 3] = 1
    recompute: Literal["none", "selective", "full"] | None = None
    micro_batch: int = Field(1, ge=1, le=65536)
    calibration: bool = True


class CrossoverRequest(BaseModel):
    """Several chips over a grid of batch sizes: where the decode lead changes, and why."""

    model_config = ConfigDict(extra="forbid")

    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "ascend-910b"], min_length=2, max_length=8
    )
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(8, ge=1, le=65536)
    precision: str = Field("fp8", max_length=8)
    batches: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        min_length=1,
        max_length=24,
    )
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    tp: int | None = Field(None, ge=1, le=65536)
    disaggregated: bool = Field(True, description="pure decode (no interleaved prefill)")
    calibration: bool = True
