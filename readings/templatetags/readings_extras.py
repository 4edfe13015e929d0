import datetime as dt

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def reading_value(value, decimals=3):
    """A reading's number with thousands separators and no trailing zeros: 12,345.6."""
    if value is None or value == "":
        return ""
    text = f"{float(value):,.{int(decimals)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@register.filter
def since(moment):
    """The time since `moment` in its largest unit only: "3 weeks" rather than "3 weeks, 1 day"."""
    return timesince(moment, depth=1) if moment else ""


@register.filter
def ago(moment):
    """How long ago `moment` was, in its largest unit: "3 hours ago", "just now"."""
    if moment is None:
        return ""
    if timezone.now() - moment < dt.timedelta(minutes=1):
        return "just now"
    return f"{since(moment)} ago"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def money(value):
    """A cost with two decimals and the configured currency symbol: €75.00."""
    if value is None or value == "":
        return ""
    return f"{settings.CURRENCY_SYMBOL}{float(value):,.2f}"


@register.filter
def price(value):
    """A price per unit with the currency symbol and as many decimals as it has: €0.3215."""
    if value is None or value == "":
        return ""
    return f"{settings.CURRENCY_SYMBOL}{reading_value(value, 6)}"


@register.inclusion_tag("includes/change.html")
def change(percent, more_is_better=False, against=""):
    """A change in percent as a word and an arrow, coloured by whether it is good news."""
    if percent is None:
        return {"known": False, "against": against}
    good = (percent > 0) == more_is_better if percent else None
    return {
        "known": True,
        "percent": abs(percent),
        "up": percent > 0,
        "flat": percent == 0,
        "good": good,
        "against": against,
    }
