"""The roles a member has in a household: what the querysets, models and forms of every app check."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"
