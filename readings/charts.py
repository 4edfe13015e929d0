"""Usage charts, drawn on the server as SVG by pygal: no JavaScript and nothing fetched from elsewhere, so
they show on any phone and within a strict Content-Security-Policy (the page loads them as images)."""

from pygal import Bar, Line
from pygal.style import Style

from readings.templatetags.readings_extras import reading_value

PRIMARY = "#0b5cad"
# Buckets only partly between two readings: their consumption is spread from readings around them.
ESTIMATED = "#8fb3da"
LOWEST = "#17803d"
HIGHEST = "#b45309"

# A phone shows the small chart at about its drawn size, so its lettering stays readable; the wide one
# fills a desktop column.
SIZES = {
    "wide": {"width": 880, "height": 340, "font": 13, "labels": 16},
    "small": {"width": 420, "height": 300, "font": 13, "labels": 8},
}


def _style(font):
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#4f5b69",
        foreground_strong="#17202b",
        foreground_subtle="#e3e8ee",
        colors=(PRIMARY, LOWEST, HIGHEST),
        guide_stroke_color="#e3e8ee",
        guide_stroke_dasharray="0",
        major_guide_stroke_color="#cfd6df",
        major_guide_stroke_dasharray="0",
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif",
        label_font_size=font,
        major_label_font_size=font,
        legend_font_size=font,
        value_font_size=font,
        no_data_font_size=font + 5,
        opacity="1",
        opacity_hover="1",
        transition="0s",
    )


def _config(size, period, buckets, unit):
    spec = SIZES[size]
    labels = [period.bucket_label(bucket.start, compact=size == "small") for bucket in buckets]
    every = max(1, -(-len(labels) // spec["labels"]))
    return {
        "width": spec["width"],
        "height": spec["height"],
        "style": _style(spec["font"]),
        "x_labels": labels,
        "x_labels_major_every": every,
        "show_minor_x_labels": every == 1,
        "y_title": unit,
        "show_y_guides": True,
        "show_x_guides": False,
        "margin": 8,
        "truncate_label": -1,
        "truncate_legend": -1,
        "spacing": 8,
        "value_formatter": reading_value,
        "no_data_text": "No readings in this period",
        "js": [],  # pygal's tooltips would come from a CDN; the numbers are in a table below the chart.
        "disable_xml_declaration": False,
    }


def usage_chart_svg(usage, period, size="wide"):
    """The SVG of a SourceUsage drawn over `period`: bars of consumption for a meter register (lighter where
    estimated), or the average with minimum and maximum for a level."""
    config = _config(size, period, usage.buckets, usage.unit)
    if usage.kind == "cumulative":
        chart = Bar(show_legend=False, **config)
        chart.add(
            "Consumption",
            [
                None
                if bucket.consumption is None
                else {
                    "value": bucket.consumption,
                    "color": PRIMARY if bucket.coverage >= 0.999 else ESTIMATED,
                }
                for bucket in usage.buckets
            ],
        )
    else:
        chart = Line(
            show_legend=True,
            legend_at_bottom=True,
            legend_at_bottom_columns=3,
            show_dots=len(usage.buckets) <= 12,
            dots_size=3,
            allow_interruptions=True,
            **config,
        )
        chart.add("Average", [bucket.average for bucket in usage.buckets], stroke_style={"width": 3})
        chart.add(
            "Lowest",
            [bucket.minimum for bucket in usage.buckets],
            stroke_style={"width": 2, "dasharray": "6,4"},
        )
        chart.add(
            "Highest",
            [bucket.maximum for bucket in usage.buckets],
            stroke_style={"width": 2, "dasharray": "6,4"},
        )
    return chart.render()
