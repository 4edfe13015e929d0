"""The base of homelog's model serializers."""

import copy

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, building its fields from the model once per class rather than once per
    serializer: every request makes a serializer, and reading the model's fields and their options again was
    a twentieth of the work of a source's detail. Each serializer gets its own copy of the fields, as DRF
    gives each its own copy of the declared ones, so a serializer changing its fields changes nobody else's.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_from_model")
        if built is None:
            built = super().get_fields()
            # Kept untouched: only copies are handed out.
            cls._fields_built_from_model = built
        return copy.deepcopy(built)
