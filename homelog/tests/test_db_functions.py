"""Database functions, on each database the tests run on."""

import uuid

import pytest

from homelog.db_functions import UUIDText
from readings.models import Reading
from readings.tests.factories import ReadingFactory

pytestmark = pytest.mark.django_db


def test_uuid_text_is_the_canonical_form_of_the_uuid():
    reading = ReadingFactory(id=uuid.UUID("01a23a9b-4b4e-7002-8635-01e35d5fd7cd"))
    ReadingFactory(id=uuid.UUID("ffffffff-0000-7abc-8def-000000000001"))

    texts = Reading.objects.annotate(text=UUIDText("id")).order_by("id").values_list("text", flat=True)

    assert list(texts) == ["01a23a9b-4b4e-7002-8635-01e35d5fd7cd", "ffffffff-0000-7abc-8def-000000000001"]
    assert Reading.objects.annotate(text=UUIDText("id")).get(text=str(reading.id)) == reading
