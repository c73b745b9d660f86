"""Legal bases configured by organisation type (DESIGN §5.2 b): the foreigners'
authority receives residence data of cases it works on, without consent.
Municipalities review and change these as sharing agreements (privacy:agreements)."""

import datetime as dt

from django.db import migrations

DEFAULTS = [
    {
        "name": "Ausländerbehörde: Aufenthaltsdaten",
        "receiver_type": "auslaenderbehoerde",
        "categories": ["master", "residence"],
        "purposes": ["casework"],
        "legal_basis": "§ 71 Abs. 2 SGB X i. V. m. § 87 AufenthG",
    },
]


def forwards(apps, schema_editor):
    Agreement = apps.get_model("privacy", "SharingAgreement")
    for data in DEFAULTS:
        Agreement.objects.get_or_create(
            name=data["name"],
            defaults={**data, "valid_from": dt.date(2020, 1, 1)},
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
