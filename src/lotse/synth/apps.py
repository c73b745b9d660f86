from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "lotse.synth"
    label = "synth"
