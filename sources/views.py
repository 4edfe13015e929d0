from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.views import owned_household_or_403
from sources.forms import DataSourceForm, DeviceTokenForm, MetricFormSet, metric_initial
from sources.models import DataSource, DeviceToken


def visible_source_or_404(user, pk):
    """The source `pk` with the user's rights on it, or 404 outside the user's households."""
    return get_object_or_404(
        DataSource.objects.visible_to(user).with_rights_of(user).select_related("household"), pk=pk
    )


def _source_form_page(request, household, form, metrics, source=None):
    return render(
        request,
        "sources/source_form.html",
        {"household": household, "form": form, "metrics": metrics, "source": source},
        status=400 if form.is_bound else 200,
    )


@login_required
def source_create(request, household_pk):
    household = owned_household_or_403(request.user, household_pk)
    if request.method == "POST":
        form = DataSourceForm(request.POST)
        metrics = MetricFormSet(request.POST, prefix="metrics")
        if form.is_valid() and metrics.is_valid():
            form.instance.household = household
            form.instance.created_by = request.user
            form.instance.metrics = metrics.metrics
            source = form.save()
            messages.success(request, f"{source} is ready for its first reading.")
            return redirect("readings:source-detail", pk=source.pk)
    else:
        form = DataSourceForm()
        metrics = MetricFormSet(prefix="metrics", initial=[{"name": "energy", "unit": "kWh"}])
    return _source_form_page(request, household, form, metrics)


@login_required
def source_update(request, pk):
    source = visible_source_or_404(request.user, pk)
    if not source.user_can_edit:
        raise PermissionDenied("Only the owners of a household can change its sources.")
    if request.method == "POST":
        form = DataSourceForm(request.POST, instance=source)
        metrics = MetricFormSet(request.POST, prefix="metrics", source=source)
        if form.is_valid() and metrics.is_valid():
            with transaction.atomic():
                form.instance.metrics = metrics.metrics
                form.save()
            messages.success(request, f"{source} saved.")
            return redirect("readings:source-detail", pk=source.pk)
    else:
        form = DataSourceForm(instance=source)
        metrics = MetricFormSet(prefix="metrics", source=source, initial=metric_initial(source.metrics))
    return _source_form_page(request, source.household, form, metrics, source=source)


def _editable_source_or_403(user, pk):
    source = visible_source_or_404(user, pk)
    if not source.user_can_edit:
        raise PermissionDenied("Only the owners of a household can manage its device tokens.")
    return source


@login_required
def token_list(request, pk):
    """A source's device tokens: issue one (its secret shown on this response only) or revoke one."""
    source = _editable_source_or_403(request.user, pk)
    secret = issued = None
    if request.method == "POST":
        form = DeviceTokenForm(request.POST)
        if form.is_valid():
            issued, secret = DeviceToken.issue(
                data_source=source, name=form.cleaned_data["name"], created_by=request.user
            )
            form = DeviceTokenForm()
    else:
        form = DeviceTokenForm()
    tokens = (
        DeviceToken.objects.manageable_by(request.user)
        .filter(data_source=source)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at", "-id")
    )
    response = render(
        request,
        "sources/tokens.html",
        {
            "source": source,
            "household": source.household,
            "tokens": tokens,
            "form": form,
            "issued": issued,
            "secret": secret,
            "readings_url": request.build_absolute_uri(f"/api/sources/{source.pk}/readings"),
        },
        status=400 if form.errors else 200,
    )
    if secret:
        # The secret is in this page alone: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk, token_pk):
    source = _editable_source_or_403(request.user, pk)
    token = get_object_or_404(
        DeviceToken.objects.manageable_by(request.user).filter(data_source=source), pk=token_pk
    )
    token.revoke()
    messages.success(request, f"{token.name} can no longer send readings.")
    return redirect("sources:token-list", pk=source.pk)
