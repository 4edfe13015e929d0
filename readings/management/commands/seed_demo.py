import datetime as dt
import math

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Household, Membership, Role, User
from readings.models import Reading
from sources.models import DataSource, SourceType

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "homelog-demo"
DEMO_HOUSEHOLD = "Demo household"


class Command(BaseCommand):
    help = "Create (or refresh) a demo household with a demo login and 30 days of hourly readings."

    @transaction.atomic
    def handle(self, *args, **options):
        user, created = User.objects.get_or_create(
            email=DEMO_EMAIL, defaults={"display_name": "Demo", "is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        household, _ = Household.objects.get_or_create(
            name=DEMO_HOUSEHOLD, defaults={"timezone": "Europe/Berlin"}
        )
        Membership.objects.get_or_create(user=user, household=household, defaults={"role": Role.OWNER})

        electricity, _ = DataSource.objects.get_or_create(
            household=household,
            name="Electricity meter",
            defaults={
                "type": SourceType.ELECTRICITY,
                "metrics": {"energy": {"unit": "kWh", "cumulative": True}},
                "price_per_unit": "0.32",
                "created_by": user,
            },
        )
        thermometer, _ = DataSource.objects.get_or_create(
            household=household,
            name="Living room",
            defaults={
                "type": SourceType.TEMPERATURE,
                "metrics": {"temperature": {"unit": "°C", "cumulative": False}},
                "created_by": user,
            },
        )

        end = timezone.now().replace(minute=0, second=0, microsecond=0)
        hours = [end - dt.timedelta(hours=h) for h in range(30 * 24, -1, -1)]
        register = 10_000.0
        rows = []
        for moment in hours:
            # A daily rhythm: little at night, peaks in the morning and evening.
            register += 0.15 + 0.35 * max(0.0, math.sin((moment.hour - 6) / 24 * 2 * math.pi))
            rows.append(
                Reading(data_source=electricity, timestamp=moment, values={"energy": round(register, 3)})
            )
            indoor = 20.5 + 1.5 * math.sin((moment.hour - 9) / 24 * 2 * math.pi)
            rows.append(
                Reading(data_source=thermometer, timestamp=moment, values={"temperature": round(indoor, 1)})
            )
        Reading.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)

        self.stdout.write(self.style.SUCCESS(f"Demo household '{household.name}' is ready."))
        self.stdout.write(f"  Sign in with {DEMO_EMAIL} / {DEMO_PASSWORD} (also an admin at /admin/).")
