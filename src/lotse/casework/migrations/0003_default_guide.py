"""The default interview guide (Erstgespräch). Organisation admins copy and adapt it."""

from django.db import migrations

# key, section, kind, question (German content), choices, required
QUESTIONS = [
    ("school_years", "school", "number", "Wie viele Jahre haben Sie insgesamt die Schule besucht?", [], True),
    ("school_certificate", "school", "choice", "Welchen höchsten Schulabschluss haben Sie?",
     ["keiner", "Grundschule", "Mittelschule / 9–10 Jahre", "Abitur / Hochschulreife", "unklar"], True),
    ("certificate_documents", "qualifications", "yes_no", "Liegen Zeugnisse oder Nachweise vor?", [], False),
    ("qualifications", "qualifications", "long_text",
     "Welche Ausbildungen, Studien oder Zertifikate haben Sie (auch ohne Nachweis)?", [], False),
    ("vocational_experience", "vocational", "long_text",
     "Wo und wie lange haben Sie schon gearbeitet? Welche Tätigkeiten?", [], False),
    ("german_courses", "qualifications", "long_text",
     "Welche Deutschkurse haben Sie besucht, mit welchem Ergebnis?", [], False),
    ("goals_short", "goals", "long_text", "Was möchten Sie in den nächsten sechs Monaten erreichen?", [], True),
    ("goals_long", "goals", "long_text", "Wo sehen Sie sich beruflich in drei Jahren?", [], False),
    ("support_needs", "support", "multi_choice", "Wobei wünschen Sie Unterstützung?",
     ["Deutsch lernen", "Schulabschluss", "Ausbildung", "Arbeit", "Wohnung", "Gesundheit",
      "Aufenthalt", "Geld / Leistungen", "Familie", "Freizeit"], False),
    ("agencies_involved", "agencies", "multi_choice", "Mit welchen Stellen haben Sie bereits Kontakt?",
     ["Jobcenter", "Agentur für Arbeit", "Ausländerbehörde", "Sozialamt", "Jugendamt",
      "Jugendmigrationsdienst", "Schule / Berufskolleg", "Beratungsstelle", "Ehrenamtliche"], False),
    ("own_view_cooperation", "own_view", "long_text",
     "Wie erleben Sie die Zusammenarbeit mit den Stellen bisher? Was soll anders werden?", [], False),
    ("consent_to_team", "own_view", "yes_no",
     "Sind Sie einverstanden, dass wir mit anderen Stellen gemeinsam an Ihrem Fall arbeiten?", [], False),
]


def forwards(apps, schema_editor):
    Guide = apps.get_model("casework", "InterviewGuide")
    Question = apps.get_model("casework", "InterviewQuestion")
    guide, created = Guide.objects.get_or_create(organisation=None, name="Erstgespräch (Standard)")
    if not created:
        return
    for order, (key, section, kind, text, choices, required) in enumerate(QUESTIONS, start=1):
        Question.objects.create(
            guide=guide, key=key, section=section, kind=kind, text=text, choices=choices,
            required=required, order=order * 10,
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
