from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "throughgate.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (log-in events into the audit trail)
