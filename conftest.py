"""Fixtures for the people every test talks about: an owner, a member and a viewer of one household, and
an outsider who belongs to another household."""

import pytest

from accounts.models import Role
from accounts.tests.factories import HouseholdFactory, MembershipFactory, UserFactory

pytest_plugins = ["homelog.api.fixtures"]


@pytest.fixture
def household(db):
    return HouseholdFactory(name="Home", timezone="Europe/Berlin")


def _member_of(household, role):
    return MembershipFactory(household=household, role=role).user


@pytest.fixture
def owner(household):
    return _member_of(household, Role.OWNER)


@pytest.fixture
def member(household):
    return _member_of(household, Role.MEMBER)


@pytest.fixture
def viewer(household):
    return _member_of(household, Role.VIEWER)


@pytest.fixture
def other_household(db):
    return HouseholdFactory(name="Elsewhere", timezone="America/New_York")


@pytest.fixture
def outsider(other_household):
    return _member_of(other_household, Role.OWNER)


@pytest.fixture
def staff_user(db):
    return UserFactory(staff=True, email="admin@example.com")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def static_files_without_manifest(settings):
    # Production serves hashed names from collectstatic's manifest; tests render pages without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
