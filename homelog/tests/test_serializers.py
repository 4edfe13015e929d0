"""homelog's serializers build their fields for each serializer, as DRF does: a field that depends on the
instance or the request is made for that instance and request."""

import pytest

from sources.api.serializers import DataSourceSerializer
from sources.tests.factories import DataSourceFactory


@pytest.mark.django_db
def test_a_serializer_changing_its_fields_changes_no_other():
    source = DataSourceFactory()

    # A serializer of an existing source makes its household read-only (a source stays where it is).
    assert DataSourceSerializer(source).fields["household"].read_only is True
    assert DataSourceSerializer().fields["household"].read_only is False
    assert DataSourceSerializer(source).fields["household"].read_only is True


def test_fields_that_depend_on_the_request_follow_each_serializers_context():
    # DRF's usual idiom for a field read-only for some callers: nothing about it may stick to the class.
    class SourceWithFixedName(DataSourceSerializer):
        def get_extra_kwargs(self):
            kwargs = super().get_extra_kwargs()
            if self.context.get("name_is_fixed"):
                kwargs["name"] = {"read_only": True}
            return kwargs

    assert SourceWithFixedName(context={"name_is_fixed": True}).fields["name"].read_only is True
    assert SourceWithFixedName().fields["name"].read_only is False
