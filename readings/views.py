import datetime as dt
import io
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode

from accounts.models import Invitation
from readings.charts import SIZES, usage_chart_svg
from readings.csv_format import CsvHeaderError, read_csv_batches
from readings.forms import ImportForm, ReadingForm
from readings.models import Reading
from readings.periods import DEFAULT_KIND, KINDS, Period
from readings.selectors import households_with_sources, readings_page
from readings.services import (
    ReadingGone,
    ReadingsClash,
    SourceGone,
    delete_reading,
    ingest_readings,
)
from readings.templatetags.readings_extras import reading_value
from readings.usage import UsageError, source_usage
from sources.views import visible_source_or_404

# --- The pages that show sources with their readings and usage ------------------------------------------


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


# --- Adding, changing and importing readings ------------------------------------------------------------


def _writable_source_or_403(user, pk):
    source = visible_source_or_404(user, pk)
    if not source.user_can_write:
        raise PermissionDenied("Viewers can look at this household's readings but not add them.")
    return source


def _changeable_reading_or_403(user, pk):
    reading = get_object_or_404(
        Reading.objects.visible_to(user)
        .select_related("data_source__household", "created_by")
        .annotate(user_can_change=Exists(Reading.objects.editable_by(user).filter(pk=OuterRef("pk")))),
        pk=pk,
    )
    if not reading.user_can_change:
        raise PermissionDenied("Members can change only the readings they added; owners can change any.")
    return reading


def _saved_message(reading, form):
    # Each value as it was typed ("10 488,769"), which the household recognises; a float's :g would have
    # shown six figures of it ("10488.8").
    source = reading.data_source
    shown = {name: form.typed_value(name) or reading_value(v, 6) for name, v in reading.values.items()}
    values = ", ".join(f"{name} {shown[name]} {source.metrics[name]['unit']}" for name in sorted(shown))
    return f"Saved {values} at {date_format(timezone.localtime(reading.timestamp), 'j M Y, H:i')}."


def _save(form, request):
    """Store the form's reading; a reading at the same time saved a moment earlier becomes a form error."""
    try:
        return form.save(user=request.user)
    except ReadingsClash:
        form.add_error("timestamp", "There is already a reading at this time; pick another time.")
        return None
    except (ReadingGone, SourceGone):
        raise Http404("This reading or its source was deleted meanwhile.") from None


@login_required
def reading_create(request, source_pk):
    source = _writable_source_or_403(request.user, source_pk)
    with timezone.override(source.household.tzinfo):
        if request.method == "POST":
            form = ReadingForm(request.POST, source=source)
            if form.is_valid() and (reading := _save(form, request)):
                messages.success(request, _saved_message(reading, form))
                if "add_another" in request.POST:
                    return redirect("readings:reading-create", source_pk=source.pk)
                return redirect("readings:source-detail", pk=source.pk)
        else:
            now = timezone.localtime().replace(second=0, microsecond=0)
            form = ReadingForm(source=source, initial={"timestamp": now})
        return render(
            request,
            "readings/reading_form.html",
            {"source": source, "household": source.household, "form": form},
            status=400 if form.is_bound else 200,
        )


@login_required
def reading_update(request, pk):
    reading = _changeable_reading_or_403(request.user, pk)
    source = reading.data_source
    with timezone.override(source.household.tzinfo):
        if request.method == "POST":
            form = ReadingForm(request.POST, source=source, reading=reading)
            if form.is_valid() and _save(form, request):
                messages.success(request, _saved_message(reading, form))
                return redirect("readings:source-detail", pk=source.pk)
        else:
            form = ReadingForm(source=source, reading=reading)
        return render(
            request,
            "readings/reading_form.html",
            {"source": source, "household": source.household, "form": form, "reading": reading},
            status=400 if form.is_bound else 200,
        )


@login_required
def reading_delete(request, pk):
    reading = _changeable_reading_or_403(request.user, pk)
    source = reading.data_source
    if request.method == "POST":
        try:
            delete_reading(reading)
        except ReadingGone:
            raise Http404("This reading was deleted meanwhile.") from None
        with timezone.override(source.household.tzinfo):
            when = date_format(timezone.localtime(reading.timestamp), "j M Y, H:i")
        messages.success(request, f"Deleted the reading of {when}.")
        return redirect("readings:source-detail", pk=source.pk)
    with timezone.override(source.household.tzinfo):
        return render(
            request,
            "readings/reading_confirm_delete.html",
            {"source": source, "household": source.household, "reading": reading},
        )


@login_required
def usage_chart(request, source_pk):
    """The source page's chart as an SVG image, for the metric, period and size in the query string."""
    source = visible_source_or_404(request.user, source_pk)
    metric, period = chart_choice(request, source)
    size = request.GET.get("size", "wide")
    if size not in SIZES:
        raise BadRequest(f"size must be one of {', '.join(SIZES)}.")
    svg = usage_chart_svg(period_usage(source, metric, period), period, size)
    response = HttpResponse(svg, content_type="image/svg+xml")
    # A new reading changes the chart at once: the browser asks again rather than reuse an old copy.
    response["Cache-Control"] = "private, no-cache"
    return response


# A file with many bad rows lists this many of them; the count says how many there were.
SHOWN_IMPORT_ERRORS = 100


def _import_csv(form, source, user):
    """Ingest the uploaded file; return (result, [(line, message), ...]) or None with the form's error set."""
    text = io.TextIOWrapper(form.cleaned_data["file"], encoding="utf-8-sig", newline="")
    try:
        # The file is bounded by PAGES_IMPORT_MAX_BYTES, and an atomic import needs every row at once.
        lines, items = [], []
        for numbers, batch in read_csv_batches(text, source.metrics, size=50_000):
            lines += numbers
            items += batch
    except CsvHeaderError as exc:
        form.add_error("file", str(exc))
        return None
    except UnicodeDecodeError:
        form.add_error("file", "This file is not UTF-8 text. Save it as CSV UTF-8 and try again.")
        return None
    if not items:
        form.add_error("file", "This file has a header row but no readings.")
        return None
    try:
        result = ingest_readings(
            source,
            items,
            created_by=user,
            partial=form.cleaned_data["partial"],
            tzinfo=zoneinfo.ZoneInfo(form.cleaned_data["timezone"]),
        )
    except SourceGone:
        raise Http404("This source was deleted meanwhile.") from None
    problems = [
        (lines[index], " ".join(message for messages in errors.values() for message in messages))
        for index, errors in result.errors.items()
    ]
    return result, problems


@login_required
def reading_import(request, source_pk):
    source = _writable_source_or_403(request.user, source_pk)
    result = problems = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid() and (outcome := _import_csv(form, source, request.user)):
            result, problems = outcome
            if result.stored and not problems:
                messages.success(
                    request,
                    f"Imported {result.created:,} new {'reading' if result.created == 1 else 'readings'}"
                    + (f"; {result.existing:,} were already stored." if result.existing else "."),
                )
                return redirect("readings:source-detail", pk=source.pk)
    else:
        form = ImportForm(initial={"timezone": source.household.timezone})
    return render(
        request,
        "readings/reading_import.html",
        {
            "source": source,
            "household": source.household,
            "form": form,
            "result": result,
            "problems": problems[:SHOWN_IMPORT_ERRORS] if problems else [],
            "problem_count": len(problems or []),
            "example": ",".join(["timestamp", *source.metric_names]),
        },
        status=400 if form.errors or (result and not result.stored) else 200,
    )
