"""Request models of the performance model's operations, one per operation.

The CLI options (``chipwatch perf ...``), the API bodies and query models (``/api/perf/...``)
and the dashboard's forms all use these: a field's default and description here are the
option's default and help text everywhere (``tests/test_parity.py`` checks the CLI against
them). To add an option to a command, add a field to its request model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ChipId = Annotated[str, Field(min_length=1, max_length=64, examples=["h20"])]
DEFAULT_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
PRECISION_HELP = "bf16, fp16, fp8, int8, fp4 or int4 (W4A16)."
DEGREE_HELP = "Parallel degree (chosen if left out)."


# What one request may ask for; each limit is named in the 422 message. Serving estimates grow
# with the layouts tried on num_chips, a crossover with chips x batches of them.
MAX_SERVING_CHIPS = 4096
MAX_CROSSOVER_NUM_CHIPS = 1024
MAX_CROSSOVER_POINTS = 96  # chips x batch sizes
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "fp4", "int4")


def _known_precision(v: str) -> str:
    if v.lower() not in PRECISIONS:
        raise ValueError(f"unknown precision {v!r}: use one of {', '.join(PRECISIONS)}")
    return v.lower()


Precision = Annotated[str, Field(max_length=8), AfterValidator(_known_precision)]
Batch = Annotated[int, Field(ge=1, le=1_000_000)]


def _degree() -> Any:
    return Field(None, ge=1, le=65536, description=DEGREE_HELP)


class Request(BaseModel):
    """Unknown fields are refused (a misspelt option never passes silently); so are NaN and
    infinities in any number."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Workload(Request):
    """A serving workload: the model, how many chips, the request shape and the layout."""

    model: str = Field(
        "llama-3.1-8b", min_length=1, max_length=64, description="Model id (see `perf models`)."
    )
    num_chips: int = Field(1, ge=1, le=MAX_SERVING_CHIPS, description="Number of chips.")
    batch: Batch | Literal["auto"] = Field(
        "auto", description="Sequences in flight, or 'auto' (the most tokens/s that fits)."
    )
    input_len: int = Field(1024, ge=1, le=1_000_000, description="Prompt tokens.")
    output_len: int = Field(256, ge=1, le=1_000_000, description="Generated tokens.")
    precision: Precision = Field("bf16", description=PRECISION_HELP)
    tp: int | None = _degree()
    pp: int | None = _degree()
    dp: int | None = _degree()
    ep: int | None = _degree()
    replicas: int | None = Field(
        None,
        ge=1,
        le=65536,
        description="Independent model copies (no traffic between them); num-chips = replicas "
        "x tp x pp x dp. Chosen if left out.",
    )
    max_tpot_ms: float | None = Field(None, gt=0, description="TPOT limit (ms).")
    max_ttft_ms: float | None = Field(None, gt=0, description="TTFT limit (ms).")
    calibration: bool = Field(
        True, description="Fitted efficiencies (off: pure roofline, efficiencies = 1)."
    )
    spec_tokens: int = Field(
        0,
        ge=0,
        le=64,
        description="Draft tokens verified per decode step (speculative / MTP); 0 = off.",
    )
    accepted_per_step: float | None = Field(
        None,
        ge=1,
        description="Mean tokens emitted per decode step with spec-tokens (1 to N+1, "
        "'accept len').",
    )
    disaggregated: bool = Field(
        False,
        description="Chips are the decode instance of prefill/decode-disaggregated serving "
        "(TPOT and tokens/s without interleaved prefill).",
    )

    phase: Literal["both", "prefill", "decode"] = Field(
        "both",
        description="both = the whole deployment; prefill / decode = one pool of a "
        "disaggregated deployment.",
    )
    redundant_experts: int = Field(
        0, ge=0, le=4096, description="Spare expert slots (slots = experts + R over the EP ranks)."
    )
    expert_skew: float = Field(
        1.0,
        ge=1.0,
        le=64.0,
        description="Systematic expert-load skew (hottest / mean, >= 1) on top of random routing.",
    )
    overlap: bool | None = Field(
        None,
        description="Micro-batch overlap of communication with compute (default: on for "
        "expert-parallel layouts).",
    )
    kv_precision: Literal["bf16", "fp16", "fp8", "int8"] = Field(
        "bf16", description="KV-cache precision (vLLM and SGLang default to 16-bit)."
    )
    dispatch_precision: Literal["fp8", "bf16"] | None = Field(
        None,
        description="MoE dispatch precision (default fp8 with 8-bit weights, else bf16; "
        "combine is bf16).",
    )
    rank_per_die: bool = Field(
        False, description="One rank per compute die of a multi-die package."
    )
    prefill_tokens_per_chip: int = Field(
        8192, ge=1, le=1_048_576, description="Tokens per chip in one prefill pass (prefill pool)."
    )
    engine: Literal["sglang", "trtllm", "vllm"] | None = Field(
        None,
        description="Serving engine: its fitted TTFT queueing terms give the loaded TTFT, and "
        "trtllm plans the KV cache from the memory left after the weights (default: the chip "
        "family's terms and vLLM/SGLang's memory plan).",
    )

    def workload_kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`chipwatch.perf.infer` besides the chip and the model."""
        return self.model_dump(include=set(Workload.model_fields) - {"model"})


class ServingRequest(Workload):
    """``perf infer``: serve a model on N chips of one kind."""

    chip: ChipId = Field("h20", description="Chip id.")


class CompareRequest(Workload):
    """``perf compare``: the same workload on several chips."""

    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "h100-sxm"],
        min_length=1,
        max_length=16,
        description="Chip ids.",
    )


def _two_or_more(chips: list[str]) -> list[str]:
    if len(chips) < 2:
        raise ValueError("give at least two chips to find where they trade places")
    return chips


class CrossoverRequest(Request):
    """``perf crossover``: several chips over a grid of batch sizes: where the decode lead
    changes, and why."""

    chips: Annotated[list[ChipId], AfterValidator(_two_or_more)] = Field(
        default_factory=lambda: ["h20", "ascend-910b"],
        max_length=8,
        description="Two or more chip ids.",
    )
    model: str = Field(
        "llama-3.1-70b", min_length=1, max_length=64, description="Model id (see `perf models`)."
    )
    num_chips: int = Field(8, ge=1, le=MAX_CROSSOVER_NUM_CHIPS, description="Number of chips.")
    precision: Precision = Field("fp8", description=PRECISION_HELP)
    batches: list[Batch] = Field(
        default_factory=lambda: list(DEFAULT_BATCHES),
        min_length=1,
        max_length=24,
        description="Batch sizes (sequences in flight).",
    )
    input_len: int = Field(1024, ge=1, le=1_000_000, description="Prompt tokens.")
    output_len: int = Field(256, ge=1, le=1_000_000, description="Generated tokens.")
    tp: int | None = _degree()
    pp: int | None = _degree()
    dp: int | None = _degree()
    ep: int | None = _degree()
    disaggregated: bool = Field(
        True,
        description="Pure decode, as a decode instance (off: decode with prefills interleaved).",
    )
    calibration: bool = Field(
        True, description="Fitted efficiencies (off: pure roofline, efficiencies = 1)."
    )

    @model_validator(mode="after")
    def _bounded(self) -> CrossoverRequest:
        points = len(dict.fromkeys(self.chips)) * len(self.batches)
        if points > MAX_CROSSOVER_POINTS:
            raise ValueError(
                f"chips x batches is {points}, over the limit of {MAX_CROSSOVER_POINTS} for one "
                "request: ask for fewer chips or batch sizes"
            )
        return self


class TrainingRequest(Request):
    """``perf train``: train a model on N chips for T tokens."""

    chip: ChipId = Field("h20", description="Chip id.")
    model: str = Field(
        "llama-3.1-70b", min_length=1, max_length=64, description="Model id (see `perf models`)."
    )
    num_chips: int = Field(1024, ge=1, le=1_000_000, description="Number of chips.")
    tokens: float = Field(1e12, gt=0, le=1e16, description="Training tokens (e.g. 15e12).")
    seq_len: int = Field(4096, ge=1, le=1_000_000, description="Sequence length.")
    global_batch_tokens: int = Field(
        4_194_304, ge=1, le=10**10, description="Tokens per optimizer step."
    )
    precision: Precision = Field("bf16", description=PRECISION_HELP)
    tp: int | None = _degree()
    pp: int | None = _degree()
    ep: int | None = _degree()
    zero_stage: Literal[0, 1, 2, 3] = Field(1, description="ZeRO stage 0-3.")
    recompute: Literal["none", "selective", "full"] | None = Field(
        None, description="none, selective or full (chosen if left out)."
    )
    micro_batch: int = Field(1, ge=1, le=65536, description="Sequences per micro-batch.")
    calibration: bool = Field(
        True, description="Fitted efficiencies (off: pure roofline, efficiencies = 1)."
    )

    def train_kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`chipwatch.perf.train` besides the chip and the model."""
        return self.model_dump(exclude={"chip", "model"})


class SweepRequest(Request):
    """``perf sweep``: every combination of a grid; the best configuration per chip and model."""

    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "h100-sxm"],
        min_length=1,
        max_length=64,
        description="Chip ids.",
    )
    models: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: ["llama-3.1-8b"],
        min_length=1,
        max_length=16,
        description="Model ids.",
    )
    precisions: list[Precision] = Field(
        default_factory=lambda: ["bf16", "fp8"],
        min_length=1,
        max_length=8,
        description="Precisions.",
    )
    num_chips: list[Annotated[int, Field(ge=1, le=65536)]] = Field(
        default_factory=lambda: [1, 2, 4, 8],
        min_length=1,
        max_length=16,
        description="Chip counts.",
    )
    batches: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: list(DEFAULT_BATCHES),
        min_length=1,
        max_length=32,
        description="Batch sizes (sequences in flight).",
    )
    input_lens: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: [1024], min_length=1, max_length=16, description="Prompt tokens."
    )
    output_lens: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: [256], min_length=1, max_length=16, description="Generated tokens."
    )
    max_tpot_ms: float | None = Field(None, gt=0, description="TPOT limit (ms).")
    max_ttft_ms: float | None = Field(None, gt=0, description="TTFT limit (ms).")
    best_by: str = Field(
        "output_tokens_per_s",
        max_length=64,
        description="Column to maximise (tpot_s/ttft_s: minimise).",
    )
    calibration: bool = Field(
        True, description="Fitted efficiencies (off: pure roofline, efficiencies = 1)."
    )

    def grid_size(self) -> int:
        """Configurations before layouts are expanded (for limits on work per request)."""
        n = len(self.chips) * len(self.models) * len(self.precisions) * len(self.num_chips)
        return n * len(self.batches) * len(self.input_lens) * len(self.output_lens)
