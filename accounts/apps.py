from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and households"

    def ready(self):
        # Connects the signals that drop a changed user's cached authentication entry.
        from accounts import authentication  # noqa: F401
