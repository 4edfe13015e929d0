import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.models import Invitation
from accounts.views import owned_household_or_403
from readings.periods import DEFAULT_KIND, KINDS, Period
from readings.selectors import readings_page
from readings.usage import UsageError, source_usage
from sources.forms import DataSourceForm, DeviceTokenForm, MetricFormSet, metric_initial
from sources.models import DataSource, DeviceToken
from sources.selectors import households_with_sources


def bad_request(request, exception):
    """The 400 page, saying which part of the address was wrong (Django's own page does not)."""
    return render(request, "400.html", {"exception": str(exception) if exception else ""}, status=400)


@login_required
def home(request):
    invitations = (
        Invitation.objects.addressed_to(request.user)
        .select_related("household", "invited_by")
        .order_by("created_at")
    )
    return render(
        request,
        "sources/home.html",
        {"households": households_with_sources(request.user), "invitations": invitations},
    )


def visible_source_or_404(user, pk):
    """The source `pk` with the user's rights on it, or 404 outside the user's households."""
    return get_object_or_404(
        DataSource.objects.visible_to(user).with_rights_of(user).select_related("household"), pk=pk
    )


def _cursor(request, name):
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date and time.") from None
    if timezone.is_naive(moment):
        raise BadRequest(f"{name} must include a UTC offset.")
    return moment


# Readings outside these years are refused on the way in, so a chart there could only be empty.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def chart_choice(request, source):
    """The metric and period asked for in the query string, with defaults; 400 for a bad value."""
    metric = request.GET.get("metric") or source.metric_names[0]
    if metric not in source.metrics:
        raise BadRequest(f"This source has no metric {metric!r}.")
    kind = request.GET.get("period") or DEFAULT_KIND
    if kind not in KINDS:
        raise BadRequest(f"period must be one of {', '.join(KINDS)}.")
    raw_date = request.GET.get("date")
    try:
        day = (
            dt.date.fromisoformat(raw_date)
            if raw_date
            else timezone.localdate(timezone=source.household.tzinfo)
        )
    except ValueError:
        raise BadRequest("date must be a date like 2025-03-10.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadRequest(f"date must be between {FIRST_YEAR} and {LAST_YEAR}.")
    return metric, Period.containing(kind, day)


def period_usage(source, metric, period):
    """The usage of `metric` over `period`, bucketed as the chart of that period is drawn."""
    try:
        return source_usage(
            source, metric, start=period.first_day, end=period.last_day, interval=period.interval
        )
    except UsageError as exc:
        raise BadRequest(str(exc)) from None


@login_required
def source_detail(request, pk):
    source = visible_source_or_404(request.user, pk)
    metric, period = chart_choice(request, source)
    page = readings_page(
        source, request.user, before=_cursor(request, "before"), after=_cursor(request, "after")
    )
    usage = period_usage(source, metric, period)
    today = timezone.localdate(timezone=source.household.tzinfo)
    chart_query = urlencode({"metric": metric, "period": period.kind, "date": period.first_day.isoformat()})
    context = {
        "source": source,
        "household": source.household,
        "metric": metric,
        "unit": source.metrics[metric]["unit"],
        # What the price is per: the unit of the (first) meter register.
        "price_unit": next(
            (source.metrics[name]["unit"] for name in source.metric_names if source.is_cumulative(name)),
            "unit",
        ),
        "period": period,
        "periods": KINDS,
        "today": today,
        "has_next": period.last_day <= today,
        "usage": usage,
        "rows": [(period.bucket_label(bucket.start, long=True), bucket) for bucket in usage.buckets],
        "chart_url": f"{reverse('readings:usage-chart', args=[source.pk])}?{chart_query}",
        "page": page,
    }
    template = "sources/source_detail.html"
    if request.htmx and request.htmx.target == "usage":
        # The period picker swaps the usage panel alone.
        template = "sources/_usage.html"
    with timezone.override(source.household.tzinfo):
        return render(request, template, context)


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
            return redirect("sources:source-detail", pk=source.pk)
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
            return redirect("sources:source-detail", pk=source.pk)
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
