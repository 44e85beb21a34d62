"""The one unit convention of gpuplan, stated once.

SI decimal prefixes throughout: 1 TFLOP/s = 1e12 FLOP/s, 1 GB = 1e9 bytes, 1 TB/s = 1e12
bytes/s. Money is in US dollars unless a price row says otherwise (then it is converted with
a dated rate), time in hours for GPU-hours and prices, seconds inside the performance models.
"""

from typing import Final, Literal

TERA: Final = 1e12
GIGA: Final = 1e9
MEGA: Final = 1e6
BILLION: Final = 1e9

HOURS_PER_DAY: Final = 24.0
HOURS_PER_YEAR: Final = 8760.0
HOURS_PER_MONTH: Final = HOURS_PER_YEAR / 12
"""The average month, 730 h (prices per GPU-month, monthly cash flows)."""
SECONDS_PER_HOUR: Final = 3600.0
SECONDS_PER_DAY: Final = 86400.0

LARGEST_INPUT: Final = 1e30
"""Largest magnitude of any number a user gives (scenario field or command option): far above
any budget in USD, fleet in GPUs or token count, and small enough that products of a few such
numbers stay far from floating-point overflow (1.8e308), so no computation overflows."""

Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"]

BYTES_PER_ELEMENT: Final[dict[str, float]] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
}
"""Storage bytes per weight or KV element. 4-bit formats carry block scales (MXFP4/NVFP4:
one 8-bit scale per 16-32 values, +3-6%) which the memory models add where it matters."""

COMPUTE_PRECISION: Final[dict[str, str]] = {
    "fp32": "bf16",
    "bf16": "bf16",
    "fp16": "bf16",
    "fp8": "fp8",
    "int8": "fp8",
    "fp4": "fp4",
    "int4": "fp4",
}
"""Which tensor-core peak a storage precision computes at (fp16 runs at the bf16 peak;
int8 at the fp8 rate on every GPU in the catalog)."""
