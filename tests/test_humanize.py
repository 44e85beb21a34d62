"""Human number formats (issue: numbers print the way people read them)."""

from gpuplan import humanize


def test_tokens_and_counts() -> None:
    assert humanize.tokens(15e12) == "15T tokens"
    assert humanize.count(2.788e6) == "2.79M"
    assert humanize.count(7_086_338_675_175) == "7.09T"
    assert humanize.count(640) == "640"
    assert humanize.count(-4700) == "\u22124.7K"


def test_money() -> None:
    assert humanize.money(1_655_699) == "$1.66M"
    assert humanize.money(-2.3e9) == "\u2212$2.3B"
    assert humanize.money(3.99) == "$3.99"
    assert humanize.money(999_999) == "$1M"
    assert humanize.money(250) == "$250"


def test_percent_and_labels() -> None:
    assert humanize.percent(0.65) == "65%"
    assert humanize.percent(0.6543, 1) == "65.4%"
    assert humanize.label("gpu_hours_p50") == "GPU hours P50"
    assert humanize.label("total_cost_usd") == "Total cost USD"


def test_days_and_flops() -> None:
    assert humanize.days(21.333) == "21.3 days"
    assert humanize.days(1.0) == "1 day"
    assert humanize.flops(8.4e23) == "8.4e23 FLOPs"
    assert humanize.flops(6 * 7e9 * 15e12) == "6.3e23 FLOPs"
    assert humanize.flops(9.9999e22) == "1e23 FLOPs"


def test_numbers_in_sentences() -> None:
    assert humanize.number(4_632_106) == "4.63M"
    assert humanize.number(2048) == "2,048"
    assert humanize.number(0.864) == "0.864"
    assert humanize.number(3e-7) == "3e-7"
    assert humanize.gpu_hours(4_632_106) == "4.63M GPU-hours"
    assert humanize.plain(1e30) == "1e30" and humanize.plain(1.797e308) == "1.797e308"
    assert humanize.plain(0.12345) == "0.12345"


def test_small_money_and_signed_changes() -> None:
    assert humanize.money(0.0724) == "$0.072"
    assert humanize.money(0.5) == "$0.50"
    assert humanize.money(4.7e-10) == "$0.00"
    assert humanize.change(0.18) == "+18%"
    assert humanize.change(-0.56) == "\u221256%"
    assert humanize.percent(-0.001) == "0%"


def test_field_kinds_from_names() -> None:
    """A company input's path or a table column says how its numbers read."""
    assert humanize.kind_of("compute.spend.inference_per_year") == "money"
    assert humanize.kind_of("compute.spend.growth_per_year") == "percent"
    assert humanize.kind_of("cost_per_million_output_tokens") == "money"
    assert humanize.kind_of("revenue.api[0].tokens_per_day") == "count"
    assert humanize.kind_of("delivery_cost_fraction") == "percent"
    assert humanize.kind_of("runway_months") == "number"
    assert humanize.label("ttft_p99_ms") == "TTFT P99 ms"
    assert humanize.label("moe_experts") == "MoE experts"
