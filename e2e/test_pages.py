import datetime as dt
import re

import pytest

from accounts.models import Invitation, Membership, Role
from accounts.tests.factories import UserFactory
from e2e.conftest import sign_in, snap, wait_for_path
from readings.models import Reading
from readings.tests.factories import bulk_create_readings
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.browser


BERLIN_WINTER = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
def meter(household):
    """Read every six hours from 11 January 2025 (Berlin) until 18:00 on the 13th, at 1,027.5 kWh."""
    source = DataSourceFactory(household=household, name="Electricity meter", price_per_unit="0.30")
    start = dt.datetime(2025, 1, 11, tzinfo=BERLIN_WINTER)
    bulk_create_readings(
        Reading(
            data_source=source, timestamp=start + dt.timedelta(hours=6 * i), values={"energy": 1000 + 2.5 * i}
        )
        for i in range(12)
    )
    return source


def numbers(page):
    """The usage panel's table of numbers, as {row label: first number}."""
    page.locator("details.numbers summary").click()
    cells = page.locator("details.numbers tbody tr").evaluate_all(
        "rows => rows.map(row => [row.querySelector('th').textContent, row.querySelector('td').textContent])"
    )
    return {label.strip(): value.strip() for label, value in cells}


def test_sign_in_with_the_keyboard_alone(page, owner, meter):
    page.goto("/")
    assert page.url.endswith("/account/sign-in/?next=/")
    snap(page, "sign-in")

    # Typing starts in the email field.
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type(owner.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery-staple")
    page.keyboard.press("Enter")

    wait_for_path(page, "/")
    assert page.get_by_role("heading", name="Home").is_visible()
    assert page.get_by_text("1,027.5 kWh").is_visible()
    snap(page, "home")

    # The first Tab offers to skip the header; following it puts the keyboard at the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Settings of Home"


def test_add_a_reading_from_the_form_and_find_it_in_the_table(page, member, meter):
    sign_in(page, member)
    page.get_by_role("link", name="Add reading for Electricity meter").click()
    wait_for_path(page, f"/sources/{meter.pk}/readings/new/")
    value = page.get_by_label("Energy (kWh)")
    # The value is where typing starts, with a keyboard for numbers on a phone.
    assert value.evaluate("element => element === document.activeElement")
    assert value.get_attribute("inputmode") == "decimal"
    assert page.get_by_text("Last: 1,027.5 kWh").is_visible()
    snap(page, "add-reading")

    page.keyboard.type("1031,25")
    page.get_by_label("Time").fill("2025-01-13T23:00")
    page.get_by_role("button", name="Save reading").click()

    wait_for_path(page, f"/sources/{meter.pk}/")
    assert page.get_by_role("status").inner_text() == "Saved energy 1031,25 kWh at 13 Jan 2025, 23:00."
    stored = Reading.objects.of_source(meter).newest_first().first()
    assert (stored.values, stored.created_by) == ({"energy": 1031.25}, member)

    # The table, newest first, has it on top; the day's chart has 0.75 kWh in each of the five hours since
    # the reading before it.
    page.goto(f"/sources/{meter.pk}/?period=day&date=2025-01-13")
    first_row = page.locator("#readings tbody tr").first
    assert first_row.locator("td").nth(0).inner_text() == "13 Jan 2025, 23:00"
    # The value, and under it what was used and what it cost since the reading before (1,027.5 kWh at 0.30).
    assert first_row.locator("td").nth(1).inner_text() == "1,031.25\n+3.75 · 1.12"
    assert first_row.get_by_role("link", name="Edit").is_visible()
    chart = page.get_by_role(
        "img", name="Bar chart of energy used per hour in kWh, Mon 13 Jan 2025.", exact=False
    )
    assert chart.evaluate("image => image.complete && image.naturalWidth > 0")
    svg = page.request.get(chart.evaluate("image => image.currentSrc")).text()
    assert svg.count('<desc class="value">0.75</desc>') == 5
    assert {hour: numbers(page)[hour] for hour in ("18:00", "22:00", "23:00")} == {
        "18:00": "0.75",
        "22:00": "0.75",
        "23:00": "—",
    }
    snap(page, "source")


def test_a_lower_meter_value_is_stored_only_after_confirming(page, owner, meter):
    sign_in(page, owner)
    page.goto(f"/sources/{meter.pk}/readings/new/")
    page.get_by_label("Energy (kWh)").fill("12")
    page.get_by_role("button", name="Save reading").click()

    error = page.locator("#id_metric_energy_error")
    assert error.inner_text().startswith("This is lower than the reading before it: 1,027.5 kWh on ")
    confirm = page.get_by_label("The meter was replaced or reset — store this value anyway")
    assert confirm.is_visible() and not confirm.is_checked()
    assert page.get_by_label("Energy (kWh)").get_attribute("aria-invalid") == "true"
    snap(page, "add-reading-confirm")
    assert Reading.objects.count() == 12

    confirm.check()
    page.get_by_role("button", name="Save reading").click()

    wait_for_path(page, f"/sources/{meter.pk}/")
    assert page.locator("#readings tbody tr").first.locator("td").nth(1).inner_text().split("\n")[0] == "12"
    assert Reading.objects.count() == 13


def test_change_and_delete_a_reading(page, owner, meter):
    sign_in(page, owner)
    page.goto(f"/sources/{meter.pk}/")
    page.locator("#readings tbody tr").first.get_by_role("link", name="Edit").click()
    page.get_by_label("Energy (kWh)").fill("1027.75")
    snap(page, "change-reading")
    page.get_by_role("button", name="Save reading").click()
    wait_for_path(page, f"/sources/{meter.pk}/")
    assert (
        page.locator("#readings tbody tr").first.locator("td").nth(1).inner_text().split("\n")[0]
        == "1,027.75"
    )

    page.locator("#readings tbody tr").first.get_by_role("link", name="Delete").click()
    assert page.get_by_role("heading", name="Delete this reading?").is_visible()
    snap(page, "delete-reading")
    page.get_by_role("button", name="Delete reading").click()

    wait_for_path(page, f"/sources/{meter.pk}/")
    assert (
        page.locator("#readings tbody tr").first.locator("td").nth(1).inner_text().split("\n")[0] == "1,025"
    )
    assert Reading.objects.count() == 11


def test_page_through_older_readings_and_periods(page, owner, meter):
    # Hourly readings for the 60 hours before the meter's first six-hourly one.
    start = dt.datetime(2025, 1, 8, 12, tzinfo=BERLIN_WINTER)
    bulk_create_readings(
        Reading(data_source=meter, timestamp=start + dt.timedelta(hours=i), values={"energy": 940.0 + i})
        for i in range(60)
    )
    sign_in(page, owner)
    page.goto(f"/sources/{meter.pk}/?period=month&date=2025-01-01")
    rows = page.locator("#readings tbody tr")
    assert rows.count() == 25

    # Older and newer pages replace the table in place (htmx) and keep their address.
    page.get_by_role("link", name="Older →").click()
    page.wait_for_url("**before=*")
    assert rows.first.locator("td").nth(1).inner_text().split("\n")[0] == "986"
    assert rows.count() == 25

    page.get_by_role("link", name="← Newer").click()
    page.wait_for_url("**after=*")
    assert rows.count() == 25
    assert rows.first.locator("td").nth(1).inner_text().split("\n")[0] == "1,027.5"

    # The period picker: from January 2025 to the week of 1 January, then the week after.
    usage = page.locator("#usage")
    assert usage.locator(".period-label").inner_text() == "January 2025"
    assert usage.locator("dl.chart-totals").inner_text().split() == ["Used", "87.5", "kWh", "Cost", "26.25"]
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url("**period=week*")
    assert usage.locator(".period-label").inner_text() == "30 Dec 2024 \N{EN DASH} 5 Jan 2025"
    page.get_by_role("link", name="Next week: 6\N{EN DASH}12 Jan 2025").click()
    page.wait_for_url("**date=2025-01-06*")
    assert usage.locator(".period-label").inner_text() == "6\N{EN DASH}12 Jan 2025"
    assert usage.locator("dl.chart-totals").inner_text().split() == ["Used", "80", "kWh", "Cost", "24.00"]
    snap(page, "source-week")


def test_owners_manage_members_and_sources(page, owner, household):
    kim = UserFactory(email="kim@example.com", display_name="Kim")
    sign_in(page, owner)
    page.get_by_role("link", name="Settings of Home").click()
    wait_for_path(page, f"/households/{household.pk}/settings/")

    page.get_by_label("Email address").fill("kim@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Invite to Home").click()
    assert page.get_by_role("status").inner_text() == (
        "Invited kim@example.com as viewer. Whoever signs in with that address joins Home once they accept."
    )
    assert not Membership.objects.filter(user=kim).exists()
    snap(page, "household-settings")

    page.get_by_role("link", name="New source").click()
    page.get_by_label("Name", exact=True).first.fill("Gas meter")
    page.get_by_label("Type").select_option("gas")
    page.get_by_label("Price per unit").fill("1.15")
    metric = page.locator("fieldset.metric-row").first
    metric.get_by_label("Name").fill("volume")
    metric.get_by_label("Unit").fill("m³")
    snap(page, "new-source")
    page.get_by_role("button", name="Create source").click()

    page.wait_for_url(re.compile(r"/sources/\d+/$"))
    assert page.get_by_role("heading", name="Gas meter").is_visible()
    source = DataSource.objects.get(name="Gas meter")
    assert source.metrics == {"volume": {"unit": "m³", "cumulative": True}}
    page.get_by_role("link", name="Settings").click()
    snap(page, "source-settings")


def test_an_invitee_joins_from_the_home_page(page, owner, household):
    kim = UserFactory(email="kim@example.com", display_name="Kim")
    Invitation.objects.create(household=household, email=kim.email, role=Role.VIEWER, invited_by=owner)
    sign_in(page, kim)
    invitations = page.get_by_role("region", name="Invitations")
    assert "Home" in invitations.inner_text()
    snap(page, "invitation")
    invitations.get_by_role("button", name="Join Home").click()
    wait_for_path(page, "/")
    assert page.get_by_role("status").inner_text() == "You joined Home as viewer."
    assert page.get_by_role("heading", name="Home").is_visible()
    assert Membership.objects.get(user=kim).role == Role.VIEWER


def test_password_pages(page, owner):
    page.goto("/account/password-reset/")
    snap(page, "password-reset")
    sign_in(page, owner)
    page.get_by_role("link", name="Password").click()
    assert page.get_by_role("heading", name="Change your password").is_visible()
    snap(page, "password-change")


def test_a_page_of_another_household_is_not_found(page, outsider, meter):
    sign_in(page, outsider)
    response = page.goto(f"/sources/{meter.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    snap(page, "not-found")


def test_import_a_small_csv(page, owner, meter):
    sign_in(page, owner)
    page.goto(f"/sources/{meter.pk}/")
    page.get_by_role("link", name="Import CSV").click()
    wait_for_path(page, f"/sources/{meter.pk}/readings/import/")
    snap(page, "import")

    bad = "timestamp,energy\n2025-01-14 08:00,1030\nsoon,1031\n2025-01-15 08:00,1032.5\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "meter.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    assert page.get_by_role("heading", name="Nothing was stored").is_visible()
    assert (
        page.locator("table.import-errors tbody tr").inner_text().startswith("3\t'soon' is not an ISO 8601")
    )
    snap(page, "import-errors")
    assert Reading.objects.count() == 12

    good = "timestamp,energy\n2025-01-14 08:00,1030\n2025-01-15T08:00:00+01:00,1032.5\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "meter.csv", "mimeType": "text/csv", "buffer": good.encode()}]
    )
    page.get_by_role("button", name="Import").click()

    wait_for_path(page, f"/sources/{meter.pk}/")
    assert page.get_by_role("status").inner_text() == "Imported 2 new readings."
    assert (
        page.locator("#readings tbody tr").first.locator("td").nth(1).inner_text().split("\n")[0] == "1,032.5"
    )
    assert Reading.objects.count() == 14


def test_issue_a_device_token_that_a_device_then_uses(page, owner, meter, live_server):
    sign_in(page, owner)
    page.goto(f"/sources/{meter.pk}/")
    page.get_by_role("link", name="Device tokens").click()
    page.get_by_label("Device name").fill("Hallway reader")
    page.get_by_role("button", name="Issue token").click()
    secret = page.get_by_role("textbox", name="Secret").input_value()
    assert secret.startswith("hlt_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the secret").click()
    # The clipboard answers asynchronously: wait for the button to say it copied.
    page.get_by_role("button", name="Copied the secret").wait_for(state="visible")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    snap(page, "device-token")

    # The device: no session, only its token.
    device = page.context.browser.new_context(base_url=live_server.url)
    answer = device.request.post(
        f"/api/sources/{meter.pk}/readings",
        headers={"Authorization": f"Token {secret}"},
        data={"timestamp": "2025-01-14T08:00:00+01:00", "values": {"energy": 1030}},
    )
    assert answer.status == 201, answer.text()

    page.goto(f"/sources/{meter.pk}/")
    first_row = page.locator("#readings tbody tr").first
    assert first_row.locator("td").nth(0).inner_text() == "14 Jan 2025, 08:00"

    page.goto(f"/sources/{meter.pk}/tokens/")
    page.get_by_role("button", name="Revoke Hallway reader").click()
    assert page.get_by_role("status").inner_text() == "Hallway reader can no longer send readings."
    refused = device.request.post(
        f"/api/sources/{meter.pk}/readings",
        headers={"Authorization": f"Token {secret}"},
        data={"timestamp": "2025-01-15T08:00:00+01:00", "values": {"energy": 1031}},
    )
    assert refused.status == 401
    device.close()
