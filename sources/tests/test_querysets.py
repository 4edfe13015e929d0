import pytest
from django.contrib.auth.models import AnonymousUser

from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(household, other_household):
    return DataSourceFactory(household=household, name="Ours"), DataSourceFactory(
        household=other_household, name="Theirs"
    )


def test_visible_to_shows_exactly_the_users_households(sources, owner, member, viewer, outsider):
    ours, theirs = sources
    for user in (owner, member, viewer):
        assert list(DataSource.objects.visible_to(user)) == [ours]
    assert list(DataSource.objects.visible_to(outsider)) == [theirs]
    assert list(DataSource.objects.visible_to(AnonymousUser())) == []


def test_editable_by_only_owners(sources, owner, member, viewer):
    ours, _ = sources
    assert list(DataSource.objects.editable_by(owner)) == [ours]
    assert list(DataSource.objects.editable_by(member)) == []
    assert list(DataSource.objects.editable_by(viewer)) == []


def test_writable_by_owners_and_members(sources, owner, member, viewer, outsider):
    ours, theirs = sources
    assert list(DataSource.objects.writable_by(owner)) == [ours]
    assert list(DataSource.objects.writable_by(member)) == [ours]
    assert list(DataSource.objects.writable_by(viewer)) == []
    assert list(DataSource.objects.writable_by(outsider)) == [theirs]
