import argparse

import pytest

from wobble_trainer import options


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e300", "1e9", "5", "-1", "fast"])
def test_absurd_rates_are_refused_with_the_range(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"not a number|10 to 2000 Hz"):
        options.rate_hz(text)


def test_ordinary_values_pass():
    assert options.rate_hz("1000") == 1000.0
    assert options.seconds("0") == 0.0 and options.fraction("0.5") == 0.5
    for text in ("nan", "1e300", "-0.1"):
        with pytest.raises(argparse.ArgumentTypeError):
            options.seconds(text)
