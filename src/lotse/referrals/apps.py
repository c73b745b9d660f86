from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "lotse.referrals"
    label = "referrals"
    verbose_name = "Referrals and participations"

    def ready(self) -> None:
        # The privacy features (Art. 15 report, retention) learn of referrals and
        # participations here; privacy itself does not import this app (DESIGN §4).
        from lotse.casework.hooks import register_person_changed

        from .careers_services import careers_person_update
        from .privacy_hooks import register

        register()
        # A plan step or a case of the person changed: their measure-career flags too.
        register_person_changed(careers_person_update)
