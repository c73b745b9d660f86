from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "lotse.referrals"
    label = "referrals"
    verbose_name = "Referrals and participations"
