from django import forms
from django.core.exceptions import ValidationError

from sources.metrics import (
    MAX_METRIC_NAME_LENGTH,
    MAX_METRICS,
    MAX_UNIT_LENGTH,
    MetricKind,
    metric_names_clash,
    validate_metric_name,
    validate_metrics,
)
from sources.models import DataSource, DeviceToken


class DataSourceForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.price_per_unit is not None:
            # 0.32, not the column's 0.320000.
            self.initial["price_per_unit"] = self.instance.price_per_unit.normalize()

    class Meta:
        model = DataSource
        fields = ["name", "type", "description", "price_per_unit", "is_active"]
        labels = {"price_per_unit": "Price per unit", "is_active": "Active"}
        help_texts = {
            "price_per_unit": "What one unit of the meter's register costs (e.g. 0.32 per kWh); leave empty "
            "if you do not want costs.",
            "is_active": "Inactive sources keep their readings but are listed last.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "price_per_unit": forms.TextInput(attrs={"inputmode": "decimal"}),
        }


class MetricForm(forms.Form):
    # The length is checked by validate_metric_name with the rest of the rule; the browser is told it too.
    name = forms.CharField(
        validators=[validate_metric_name],
        widget=forms.TextInput(attrs={"maxlength": MAX_METRIC_NAME_LENGTH, "spellcheck": "false"}),
    )
    unit = forms.CharField(max_length=MAX_UNIT_LENGTH, required=False)
    kind = forms.ChoiceField(choices=MetricKind.choices, initial=MetricKind.CUMULATIVE)


class BaseMetricFormSet(forms.BaseFormSet):
    def __init__(self, *args, source=None, **kwargs):
        # The source being edited (None for a new one): its readings may still use a metric.
        self.source = source
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if index is not None and index >= self.initial_form_count():
            # A row left empty adds nothing; there is nothing to remove.
            form.is_new = True
            form.fields.pop("DELETE", None)
        elif "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    @property
    def metrics(self):
        """The metrics as DataSource stores them, once the formset is valid."""
        return {
            form.cleaned_data["name"]: MetricKind(form.cleaned_data["kind"]).spec(
                form.cleaned_data["unit"].strip()
            )
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        }

    def clean(self):
        if any(self.errors):
            return
        names = [
            form.cleaned_data["name"]
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        clashes = metric_names_clash(names)
        if clashes:
            raise ValidationError(clashes)
        validate_metrics(self.metrics)
        if self.source is not None:
            dropped = sorted(set(self.source.metrics) - set(names))
            in_use = [name for name in dropped if self.source.readings.filter(values__has_key=name).exists()]
            if in_use:
                raise ValidationError(
                    f"Readings of this source have values for {', '.join(in_use)}: keep "
                    f"{'that metric' if len(in_use) == 1 else 'those metrics'} (you can change the unit)."
                )


MetricFormSet = forms.formset_factory(
    MetricForm, formset=BaseMetricFormSet, extra=1, can_delete=True, max_num=MAX_METRICS, validate_max=True
)


def metric_initial(metrics):
    return [
        {"name": name, "unit": spec["unit"], "kind": MetricKind.of(spec).value}
        for name, spec in sorted(metrics.items())
    ]


class DeviceTokenForm(forms.ModelForm):
    class Meta:
        model = DeviceToken
        fields = ["name"]
        labels = {"name": "Device name"}
