"""A demo household with a year of believable readings, so that a newcomer sees a living dashboard at once.

Running it again is safe and cheap: each source continues from its newest stored reading up to now, so
nothing is stored twice and the demo keeps up with the clock.
"""

import datetime as dt
import math
import random
from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Household, Membership, Role, User
from readings.changes import announce_readings_changed
from readings.models import Reading
from readings.usage import rollup
from sources.models import DataSource, SourceType

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "homelog-demo"
DEMO_HOUSEHOLD = "Demo household"
DEMO_TIMEZONE = "Europe/Berlin"
MEMBER_EMAIL = "sam@example.com"
HOUR = dt.timedelta(hours=1)


def outdoor_temperature(local):
    """A central-European year: about 1 °C in mid-January, 19 °C in mid-July, cooler at night."""
    seasonal = 10 - 9 * math.cos(2 * math.pi * (local.timetuple().tm_yday - 15) / 365.25)
    daily = 3.5 * math.sin(2 * math.pi * (local.hour - 9) / 24)
    return seasonal + daily


def electricity_kwh(local, rng, clouds):
    """One hour of a family's electricity: a base load, a morning and a bigger evening peak, more during
    the day at weekends, and a little more light in the dark months."""
    hour, weekend = local.hour, local.weekday() >= 5
    use = 0.16
    use += 0.45 * math.exp(-(((hour - (9 if weekend else 7)) / 1.3) ** 2))
    use += 0.75 * math.exp(-(((hour - 19.5) / 2.0) ** 2))
    if weekend and 10 <= hour <= 17:
        use += 0.3
    winter = 0.5 + 0.5 * math.cos(2 * math.pi * (local.timetuple().tm_yday - 15) / 365.25)
    if hour >= 16 or hour <= 7:
        use += 0.12 * winter
    return use * rng.uniform(0.8, 1.25)


def gas_m3(local, rng, clouds):
    """One hour of gas: heating that follows the cold (winter peaks, nothing in summer) and hot water."""
    heating = max(0.0, 16.0 - outdoor_temperature(local)) * 0.016
    if 0 <= local.hour < 5:
        heating *= 0.5  # night set-back
    hot_water = 0.09 if local.hour in (6, 7, 19, 20) else 0.006
    return (heating + hot_water) * rng.uniform(0.85, 1.15)


def water_m3(local, rng, clouds):
    """One hour of water for three people: showers in the morning, cooking and washing in the evening."""
    hour = local.hour
    litres = 2 + 55 * math.exp(-(((hour - 7) / 1.0) ** 2)) + 30 * math.exp(-(((hour - 19) / 1.6) ** 2))
    if local.weekday() >= 5:
        litres *= 1.15
    return litres * rng.uniform(0.7, 1.3) / 1000


def solar_kwh(local, rng, clouds):
    """One hour from a 6 kWp roof: a sine between sunrise and sunset (long days in June, short in December),
    dimmed by the day's clouds."""
    day_of_year = local.timetuple().tm_yday
    day_length = 12.25 - 4.25 * math.cos(2 * math.pi * (day_of_year + 10) / 365.25)
    sunrise = 13.2 - day_length / 2
    position = (local.hour + 0.5 - sunrise) / day_length
    if not 0 < position < 1:
        return 0.0
    peak = 6.0 * (0.55 + 0.25 * (day_length - 8) / 8.5)
    return peak * math.sin(math.pi * position) ** 1.6 * clouds * rng.uniform(0.9, 1.05)


def indoor(local, rng):
    """The living room: heated to 21 °C by day and 18.5 °C at night in winter, following the weather a little
    in summer; humidity higher when cooking and showering."""
    outside = outdoor_temperature(local)
    if outside < 15:
        target = 21.0 if 6 <= local.hour < 23 else 18.5
        temperature = target + 0.02 * outside + rng.uniform(-0.3, 0.3)
    else:
        temperature = 20 + 0.35 * (outside - 15) + rng.uniform(-0.3, 0.3)
    humidity = 45 + 8 * math.exp(-(((local.hour - 19) / 2.0) ** 2)) + rng.uniform(-3, 3)
    return {"temperature": round(temperature, 1), "humidity": round(humidity)}


@dataclass
class DemoSource:
    name: str
    type: str
    metrics: dict
    price_per_unit: str | None
    description: str
    # For a meter: the register's increase in one hour, and its value a year ago.
    hourly_use: object = None
    first_register: float = 0.0
    # Read by hand every few days, rather than every hour by a device.
    by_hand: bool = False


SOURCES = [
    DemoSource(
        "Electricity meter",
        SourceType.ELECTRICITY,
        {"energy": {"unit": "kWh", "cumulative": True}},
        "0.32",
        "Smart meter in the hallway; an optical reader sends a reading every hour.",
        hourly_use=electricity_kwh,
        first_register=24_310.0,
    ),
    DemoSource(
        "Gas meter",
        SourceType.GAS,
        {"volume": {"unit": "m³", "cumulative": True}},
        "1.15",
        "Read by hand in the basement every few days.",
        hourly_use=gas_m3,
        first_register=8_412.0,
        by_hand=True,
    ),
    DemoSource(
        "Water meter",
        SourceType.WATER,
        {"volume": {"unit": "m³", "cumulative": True}},
        "4.20",
        "Read by hand most mornings. The water company replaced it eight months into the year.",
        hourly_use=water_m3,
        first_register=512.0,
        by_hand=True,
    ),
    DemoSource(
        "Solar inverter",
        SourceType.SOLAR,
        {"energy": {"unit": "kWh", "cumulative": True}},
        None,
        "6 kWp on the south roof; the inverter reports its production counter every hour.",
        hourly_use=solar_kwh,
        first_register=3_820.0,
    ),
    DemoSource(
        "Living room",
        SourceType.TEMPERATURE,
        {"temperature": {"unit": "°C", "cumulative": False}, "humidity": {"unit": "%", "cumulative": False}},
        None,
        "Sensor on the bookshelf.",
    ),
]


class Command(BaseCommand):
    help = "Create (or bring up to date) a demo household with a year of readings and print its login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=400,
            # A year and a month, so that this month can be compared with the same month last year.
            help="How much history a new demo gets (default: 400 days).",
        )

    def handle(self, *args, days, **options):
        now = timezone.now()
        history = dt.timedelta(days=days)
        with transaction.atomic():
            user, member, household = self._people_and_household()
            created = {}
            for spec in SOURCES:
                source = self._source(spec, household, user)
                rows = self._readings(spec, source, now, history, readers=[user, member])
                Reading.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
                created[source.name] = len(rows)
            # bulk_create sends no signals and skips the counter and the usage rollups: recount, rebuild
            # and say once that these changed.
            household.data_sources.recount_readings()
            rollup.rebuild(household.data_sources.values_list("pk", flat=True))
            announce_readings_changed(household.data_sources.values_list("pk", flat=True))

        total = sum(created.values())
        self.stdout.write(
            self.style.SUCCESS(f"Demo household '{household.name}' is ready ({total:,} new readings).")
        )
        self.stdout.write(f"  Sign in with {DEMO_EMAIL} / {DEMO_PASSWORD} (also an admin at /admin/).")
        self.stdout.write(f"  {MEMBER_EMAIL} / {DEMO_PASSWORD} is a member who may add readings.")

    def _people_and_household(self):
        user, created = User.objects.get_or_create(
            email=DEMO_EMAIL, defaults={"display_name": "Demo", "is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        member, created = User.objects.get_or_create(email=MEMBER_EMAIL, defaults={"display_name": "Sam"})
        if created:
            member.set_password(DEMO_PASSWORD)
            member.save(update_fields=["password"])
        household, _ = Household.objects.get_or_create(
            name=DEMO_HOUSEHOLD, defaults={"timezone": DEMO_TIMEZONE}
        )
        Membership.objects.get_or_create(user=user, household=household, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(user=member, household=household, defaults={"role": Role.MEMBER})
        return user, member, household

    def _source(self, spec, household, user):
        source, created = DataSource.objects.get_or_create(
            household=household,
            name=spec.name,
            defaults={
                "type": spec.type,
                "metrics": spec.metrics,
                "price_per_unit": spec.price_per_unit,
                "description": spec.description,
                "created_by": user,
            },
        )
        missing = {name: m for name, m in spec.metrics.items() if name not in source.metrics}
        if not created and missing:
            # An older demo may lack a metric this one has.
            source.metrics = source.metrics | missing
            source.save(update_fields=["metrics", "updated_at"])
        return source

    def _readings(self, spec, source, now, history, readers):
        """The readings from the newest stored one (or `history` ago) up to `now`; `readers` take turns at
        the meters read by hand."""
        latest = Reading.objects.of_source(source).order_by("-timestamp").values_list("timestamp", "values")
        latest = latest.first()
        start = now - history if latest is None else max(latest[0], now - history)
        start = start.replace(minute=0, second=0, microsecond=0)
        tz = source.household.tzinfo
        rng = random.Random(f"{spec.name}:{start.isoformat()}")
        moments = [start + HOUR * h for h in range(1, int((now - start) / HOUR) + 1)]
        if spec.hourly_use is None:
            return [
                Reading(data_source=source, timestamp=m, values=indoor(timezone.localtime(m, tz), rng))
                for m in moments
            ]

        metric = next(iter(spec.metrics))
        register = spec.first_register if latest is None else latest[1].get(metric, spec.first_register)
        # The demo's water meter was swapped for a new one, to show that a reset is not negative use.
        replaced_at = start + history * 2 / 3 if latest is None and spec.type == SourceType.WATER else None
        visits = self._visits(spec, latest[0] if latest else start, now, tz) if spec.by_hand else []
        clouds = 1.0
        rows = []
        for moment in moments:
            local = timezone.localtime(moment, tz)
            if local.hour == 0:
                clouds = rng.choice([0.15, 0.35, 0.6, 0.85, 1.0, 1.0])
            register += spec.hourly_use(local, rng, clouds)
            if replaced_at is not None and moment >= replaced_at:
                register, replaced_at = 0.4, None
            if not spec.by_hand:
                rows.append(
                    Reading(data_source=source, timestamp=moment, values={metric: round(register, 3)})
                )
            elif visits and moment >= visits[0]:
                reading = Reading(
                    data_source=source, timestamp=visits.pop(0), values={metric: round(register, 3)}
                )
                reading.created_by = rng.choice(readers)
                rows.append(reading)
        return rows

    @staticmethod
    def _visits(spec, start, end, tz):
        """When someone reads a meter by hand between `start` and `end`: the water meter most mornings, the
        gas meter every few days at any time of the day. Each day decides for itself, so that running the
        command again picks the same times."""
        visits = []
        day = timezone.localtime(start, tz).date()
        while day <= timezone.localtime(end, tz).date():
            rng = random.Random(f"{spec.name}:{day.isoformat()}")
            if spec.type == SourceType.WATER:
                visit = rng.random() < 0.8 and dt.time(rng.randint(6, 8), rng.randint(0, 59))
            else:
                visit = rng.random() < 0.3 and dt.time(rng.randint(7, 20), rng.randint(0, 59))
            if visit:
                moment = dt.datetime.combine(day, visit, tzinfo=tz).astimezone(dt.UTC)
                if start < moment <= end:
                    visits.append(moment)
            day += dt.timedelta(days=1)
        return visits
