"""GET /api/sources/{id}/readings.csv: a source's readings as CSV, streamed row by row from the database, with
the filters of the readings list. Oldest first unless `ordering` says otherwise; import reads it back."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView

from readings.api.filters import ReadingFilterSet
from readings.api.views import SourceReadingsMixin
from readings.csv_format import export_metric_names, iter_csv_chunks
from readings.models import Reading


@extend_schema(
    summary="A source's readings as CSV",
    description="Columns `id`, `timestamp` (UTC), one per metric, then one per metric that the source no "
    "longer has but the exported readings have values for; the same filters as the readings list. "
    "`import_readings` and the bulk endpoint read it back unchanged (a removed metric's column once the "
    "metric is added back to the source).",
    responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV, streamed.")},
    filters=True,
)
class ReadingsCSVView(SourceReadingsMixin, GenericAPIView):
    filterset_class = ReadingFilterSet
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reading.objects.none()
        return Reading.objects.of_source(self.data_source).order_by("timestamp")

    def perform_content_negotiation(self, request, force=False):
        # The CSV is written past DRF's renderers; errors still answer in the API's JSON whatever is accepted.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, source_pk):
        source = self.data_source
        readings = self.filter_queryset(self.get_queryset())
        rows = readings.values_list("id", "timestamp", "values").iterator(chunk_size=5000)
        response = StreamingHttpResponse(
            iter_csv_chunks(rows, export_metric_names(source, readings)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="source-{source.pk}-readings.csv"'
        return response
