import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst

from accounts.forms import timezone_choices
from readings.models import Reading
from readings.services import create_reading, update_reading
from readings.templatetags.readings_extras import ago, reading_value
from sources.metrics import validate_values, value_error

# A phone's clock may run a little ahead of the server's.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class MetricValueField(forms.FloatField):
    """A number as people type it on a phone: spaces between thousands, or a decimal comma, are fine."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "value-input"})

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
            if "," in value and "." not in value:
                value = value.replace(",", ".")
        return super().to_python(value)


def _metric_field_name(metric):
    # Prefixed so that a metric called "timestamp" cannot collide with the form's own fields. A space
    # becomes "~", which no metric name has: the field's id must be one word of aria-describedby.
    return f"metric_{metric.replace(' ', '~')}"


class ReadingForm(forms.Form):
    """One reading of a source: a time and a value for some of its metrics.

    A cumulative value that makes the register go down (lower than the reading before it, or higher than
    the one after it) is refused until `meter_replaced` confirms it, so that a typo is not stored as a meter
    replacement.
    """

    timestamp = forms.DateTimeField(
        label="Time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )
    meter_replaced = forms.BooleanField(
        required=False, label="The meter was replaced or reset — store this value anyway"
    )

    def __init__(self, *args, source, reading=None, **kwargs):
        self.source = source
        self.reading = reading
        if reading is not None:
            kwargs.setdefault(
                "initial",
                {"timestamp": reading.timestamp}
                | {_metric_field_name(name): value for name, value in reading.values.items()},
            )
        super().__init__(*args, **kwargs)
        self.needs_confirmation = False
        self.last_values = self._last_values()
        for name in source.metric_names:
            unit = source.metrics[name]["unit"]
            field = MetricValueField(required=False, label=capfirst(name.replace("_", " ")))
            field.metric = name
            field.unit = unit
            field.help_text = self._last_value_help(name, unit)
            self.fields[_metric_field_name(name)] = field
        if not self.is_bound and reading is None:
            # A new reading is mostly one number typed in front of the meter: start there.
            self.fields[_metric_field_name(source.metric_names[0])].widget.attrs["autofocus"] = True
        # The confirmation comes last, after the values it confirms.
        self.fields["meter_replaced"] = self.fields.pop("meter_replaced")

    def _last_value_help(self, name, unit):
        if name not in self.last_values:
            return "No earlier value."
        moment, value = self.last_values[name]
        return format_html(
            "Last: <strong>{} {}</strong>, {} ({})", reading_value(value), unit, _when(moment), ago(moment)
        )

    def typed_value(self, name):
        """The text typed for metric `name`, as it was typed."""
        return str(self.data.get(_metric_field_name(name)) or "").strip()

    @property
    def metric_fields(self):
        return [self[_metric_field_name(name)] for name in self.source.metric_names]

    def _others(self):
        others = Reading.objects.of_source(self.source)
        if self.reading is not None:
            others = others.exclude(pk=self.reading.pk)
        return others

    def _last_values(self):
        """The newest stored value of each metric, with its time (one indexed query per metric)."""
        last = {}
        for name in self.source.metric_names:
            row = (
                self._others()
                .filter(values__has_key=name)
                .order_by("-timestamp")
                .values_list("timestamp", "values")
                .first()
            )
            if row:
                last[name] = (row[0], row[1][name])
        return last

    def clean_timestamp(self):
        timestamp = self.cleaned_data["timestamp"]
        if timestamp > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationError("This time is in the future. Readings record what a meter showed.")
        return timestamp

    def clean(self):
        cleaned = super().clean()
        values = {
            name: cleaned[_metric_field_name(name)]
            for name in self.source.metric_names
            if cleaned.get(_metric_field_name(name)) is not None
        }
        if not values:
            if not any(_metric_field_name(name) in self.errors for name in self.source.metric_names):
                raise ValidationError("Enter a value for at least one metric.", code="no_values")
            return cleaned
        for name, value in list(values.items()):
            if (message := value_error(name, value)) is not None:
                self.add_error(_metric_field_name(name), ValidationError(message, code="out_of_range"))
                del values[name]
        if any(_metric_field_name(name) in self.errors for name in self.source.metric_names):
            return cleaned
        validate_values(values, self.source.metrics)
        cleaned["values"] = values
        timestamp = cleaned.get("timestamp")
        if timestamp is None:
            return cleaned
        if self._others().filter(timestamp=timestamp).exists():
            self.add_error(
                "timestamp",
                ValidationError(
                    "There is already a reading at this time; change that one or pick another time.",
                    code="duplicate",
                ),
            )
            return cleaned
        if not cleaned.get("meter_replaced"):
            self._check_register_goes_up(values, timestamp)
        return cleaned

    def _check_register_goes_up(self, values, timestamp):
        for name, value in values.items():
            if not self.source.is_cumulative(name):
                continue
            unit = self.source.metrics[name]["unit"]
            neighbours = self._others().filter(values__has_key=name).values_list("timestamp", "values")
            before = neighbours.filter(timestamp__lt=timestamp).order_by("-timestamp").first()
            after = neighbours.filter(timestamp__gt=timestamp).order_by("timestamp").first()
            if before and value < before[1][name]:
                message = (
                    f"This is lower than the reading before it: {reading_value(before[1][name])} {unit} on "
                    f"{_when(before[0])}. Was the meter replaced? Check the number, or tick the box below "
                    "to store it as a new meter."
                )
            elif after and value > after[1][name]:
                message = (
                    f"This is higher than the reading after it: {reading_value(after[1][name])} {unit} on "
                    f"{_when(after[0])}, so the register would go down. Check the number, or tick the "
                    "box below if the meter was replaced in between."
                )
            else:
                continue
            self.needs_confirmation = True
            self.add_error(_metric_field_name(name), ValidationError(message, code="register_goes_down"))

    def save(self, *, user):
        """Store the reading; ReadingsClash, ReadingGone or SourceGone when a concurrent write came first."""
        values, timestamp = self.cleaned_data["values"], self.cleaned_data["timestamp"]
        if self.reading is None:
            return create_reading(self.source, timestamp=timestamp, values=values, created_by=user)
        return update_reading(self.reading, timestamp=timestamp, values=values)


def _when(moment):
    return date_format(timezone.localtime(moment), "j M Y, H:i")


class ImportForm(forms.Form):
    """A CSV file of readings for one source, stored through the same ingestion as the API's bulk import."""

    file = forms.FileField(
        label="CSV file",
        help_text="A header row naming timestamp and the metrics (id too, if you like), then the readings.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    timezone = forms.ChoiceField(
        label="Times without an offset are in",
        choices=timezone_choices,
        help_text="For times like 2025-01-31 08:00; times like 2025-01-31T08:00:00+01:00 say it themselves.",
    )
    partial = forms.BooleanField(
        required=False,
        label="Store the good rows even if some are wrong",
        help_text="Otherwise one wrong row and nothing is stored, so you can fix the file and try again.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PAGES_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"This file is {filesizeformat(upload.size)}; the page takes files up to "
                f"{filesizeformat(limit)}. Split it, or import it with `manage.py import_readings`."
            )
        return upload
