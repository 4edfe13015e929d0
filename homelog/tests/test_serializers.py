"""homelog's ModelSerializer: fields built from the model once per class, copied for each serializer."""

import pytest

from accounts.models import Household
from homelog.api.serializers import ModelSerializer
from sources.api.serializers import DataSourceSerializer
from sources.tests.factories import DataSourceFactory


def test_fields_are_built_once_per_class():
    built = []

    class HouseholdNames(ModelSerializer):
        class Meta:
            model = Household
            fields = ["id", "name"]

        def build_field(self, field_name, *args):
            built.append(field_name)
            return super().build_field(field_name, *args)

    first, second, third = HouseholdNames(), HouseholdNames(), HouseholdNames()

    assert [list(s.fields) for s in (first, second, third)] == [["id", "name"]] * 3
    assert built == ["id", "name"]
    assert first.fields["name"] is not second.fields["name"]
    assert HouseholdNames(Household(id=7, name="Home")).data == {"id": 7, "name": "Home"}


@pytest.mark.django_db
def test_a_serializer_changing_its_fields_changes_no_other():
    source = DataSourceFactory()

    # A serializer of an existing source makes its household read-only (a source stays where it is).
    assert DataSourceSerializer(source).fields["household"].read_only is True
    assert DataSourceSerializer().fields["household"].read_only is False
    assert DataSourceSerializer(source).fields["household"].read_only is True
