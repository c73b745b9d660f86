from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "lotse.eligibility"
    label = "eligibility"
    verbose_name = "Eligibility"
