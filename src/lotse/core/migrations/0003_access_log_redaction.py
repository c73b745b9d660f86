"""Access log v2 (schema): payload digest and redaction fields; deletion records.

The data migration 0004 fills `payload_digest` and rebuilds the chain.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_default_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="payload_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="redacted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="redacted_by_seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="DeletionRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "performed_at",
                    models.DateTimeField(db_index=True, verbose_name="performed at"),
                ),
                ("as_of", models.DateField(verbose_name="as of")),
                ("person_id", models.BigIntegerField(db_index=True, verbose_name="person id")),
                (
                    "policy",
                    models.CharField(
                        choices=[
                            ("closed_cases", "closed cases: person anonymised"),
                            ("closed_case_documents", "documents of closed cases deleted"),
                        ],
                        max_length=40,
                        verbose_name="policy",
                    ),
                ),
                (
                    "period_days",
                    models.PositiveIntegerField(verbose_name="retention period (days)"),
                ),
                ("counts", models.JSONField(default=dict, verbose_name="records per type")),
                ("run_by", models.CharField(max_length=150, verbose_name="run by")),
                ("dry_run", models.BooleanField(default=False, verbose_name="dry run")),
            ],
            options={
                "verbose_name": "deletion record",
                "verbose_name_plural": "deletion records",
                "ordering": ["-performed_at", "-pk"],
            },
        ),
    ]
