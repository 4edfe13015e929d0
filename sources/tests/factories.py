import factory

from accounts.tests.factories import HouseholdFactory
from sources.models import DataSource, SourceType


class DataSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSource

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"Meter {n}")
    type = SourceType.ELECTRICITY
    metrics = factory.LazyFunction(lambda: {"energy": {"unit": "kWh", "cumulative": True}})

    class Params:
        instantaneous = factory.Trait(
            type=SourceType.TEMPERATURE,
            metrics=factory.LazyFunction(lambda: {"temperature": {"unit": "°C", "cumulative": False}}),
        )
        priced = factory.Trait(price_per_unit="0.300000")
