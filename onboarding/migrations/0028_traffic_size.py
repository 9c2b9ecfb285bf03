from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("onboarding", "0027_withdrawn_outcomes"),
    ]

    operations = [
        migrations.AddField(
            model_name="topictrafficsample",
            name="size_bytes",
            field=models.BigIntegerField(
                blank=True,
                help_text="Bytes of one copy of the topic's data on the brokers; empty when the brokers' log "
                          "directories could not be read.",
                null=True,
            ),
        ),
    ]
