import factory

from accounts.tests.factories import HouseholdFactory
from sources.models import DataSource, DeviceToken, SourceType


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


class DeviceTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceToken

    data_source = factory.SubFactory(DataSourceFactory)
    name = factory.Sequence(lambda n: f"Device {n}")
    prefix = factory.LazyAttribute(lambda token: token.secret[:12])
    secret_hash = factory.LazyAttribute(lambda token: DeviceToken.hash_secret(token.secret))

    class Params:
        # The plain secret, for tests that authenticate with it; never stored.
        secret = factory.Sequence(lambda n: f"hlt_test-secret-{n:032d}")
