from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "lotse.referrals"
    label = "referrals"
    verbose_name = "Referrals and participations"

    def ready(self) -> None:
        # The privacy features (Art. 15 report, retention) learn of referrals and
        # participations here; privacy itself does not import this app (DESIGN §4).
        from .privacy_hooks import register

        register()
