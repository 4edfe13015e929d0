"""The API's JSON renderer (orjson)."""

import datetime as dt
import decimal

import pytest
from django.utils.translation import gettext_lazy

from homelog.api.renderers import ORJSONRenderer


def render(data):
    return ORJSONRenderer().render(data)


def test_writes_utc_moments_with_a_z_and_decimals_and_lazy_text_as_strings():
    data = {
        "at": dt.datetime(2025, 1, 1, 2, 0, 0, 123456, tzinfo=dt.UTC),
        "cost": decimal.Decimal("12.30"),
        "message": gettext_lazy("This field is required."),
    }

    assert render(data) == (
        b'{"at":"2025-01-01T02:00:00.123456Z","cost":"12.30","message":"This field is required."}'
    )


def test_keys_that_are_not_strings_are_written_as_strings():
    data = {"errors": {0: ["bad"], 7: ["worse"]}, "days": {dt.date(2025, 1, 2): 1.5}}

    assert render(data) == b'{"errors":{"0":["bad"],"7":["worse"]},"days":{"2025-01-02":1.5}}'


def test_none_renders_an_empty_body():
    assert render(None) == b""


def test_what_json_cannot_hold_is_still_refused():
    with pytest.raises(TypeError, match="not JSON serializable"):
        render({"tags": {"a"}})
