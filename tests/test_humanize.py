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
