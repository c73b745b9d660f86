"""Default code list of need types and the access log chain head."""

from django.db import migrations

# code, name (German: content of the municipality's code list), life domain
NEED_TYPES = [
    ("deutsch_a1", "Deutsch A1 (Alphabetisierung/Einstieg)", "language"),
    ("deutsch_a2", "Deutsch A2", "language"),
    ("deutsch_b1", "Deutsch B1", "language"),
    ("deutsch_b2", "Deutsch B2 (berufsbezogen)", "language"),
    ("deutsch_c1", "Deutsch C1 (berufsbezogen)", "language"),
    ("alphabetisierung", "Alphabetisierung", "language"),
    ("schulabschluss", "Schulabschluss nachholen", "education"),
    ("schulplatz", "Schulplatz / Berufskolleg", "education"),
    ("anerkennung", "Anerkennung ausländischer Abschlüsse", "education"),
    ("berufsorientierung", "Berufsorientierung", "work"),
    ("ausbildungsvorbereitung", "Ausbildungsvorbereitung", "work"),
    ("ausbildungsplatz", "Ausbildungsplatz", "work"),
    ("ausbildungsbegleitung", "Ausbildungsbegleitung (AsA flex)", "work"),
    ("einstiegsqualifizierung", "Einstiegsqualifizierung (EQ)", "work"),
    ("arbeitsplatz", "Arbeitsplatz", "work"),
    ("beschaeftigungserlaubnis", "Beschäftigungserlaubnis klären", "residence"),
    ("aufenthaltsperspektive", "Aufenthaltsrechtliche Beratung / Perspektive", "residence"),
    ("identitaetsklaerung", "Identitätsklärung / Passbeschaffung", "residence"),
    ("wohnung", "Wohnung / Auszug aus der Unterkunft", "housing"),
    ("gesundheit", "Gesundheitliche Versorgung", "health"),
    ("psychosozial", "Psychosoziale Unterstützung", "health"),
    ("leistungen", "Existenzsicherung / Leistungsanspruch klären", "livelihood"),
    ("schulden", "Schuldnerberatung", "livelihood"),
    ("familie", "Familiennachzug / familiäre Unterstützung", "family"),
    ("kinderbetreuung", "Kinderbetreuung", "family"),
    ("freizeit", "Freizeit, Sport und Vereine", "participation"),
    ("mentoring", "Mentoring / ehrenamtliche Begleitung", "participation"),
]


def forwards(apps, schema_editor):
    NeedType = apps.get_model("core", "NeedType")
    AccessLogHead = apps.get_model("core", "AccessLogHead")
    for code, name, domain in NEED_TYPES:
        NeedType.objects.get_or_create(code=code, defaults={"name": name, "life_domain": domain})
    AccessLogHead.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
