# Service-account ACL choices and adopted exceptions, client bootstrap servers, pending routed destinations.

import django.db.models.deletion
from django.db import migrations, models


def reapply_live_accounts(apps, schema_editor):
    """Accounts now also get READ on their team's topics: queue every settled one for the access reconciler,
    so the new ACLs are applied rather than reported as drift."""
    ServiceAccount = apps.get_model("onboarding", "ServiceAccount")
    ServiceAccount.objects.filter(status__in=["ready", "drifted"], delete_requested_at__isnull=True).update(
        status="pending", next_attempt_at=None, failures=0)


class Migration(migrations.Migration):

    dependencies = [
        ('onboarding', '0011_field_sensitivity'),
    ]

    operations = [
        migrations.AddField(
            model_name='cluster',
            name='client_bootstrap_servers',
            field=models.CharField(blank=True, help_text="The SASL listener that teams' applications connect to with their service accounts (shown in the client settings). Empty: the admin address, when it is itself a SASL listener.", max_length=500, verbose_name='Client bootstrap servers'),
        ),
        migrations.AddField(
            model_name='serviceaccount',
            name='acl_exceptions',
            field=models.JSONField(blank=True, default=dict, help_text="ACL drift adopted as desired: {'accepted': [...], 'waived': [...]}."),
        ),
        migrations.AddField(
            model_name='serviceaccount',
            name='can_consume_own_topics',
            field=models.BooleanField(default=True, help_text="READ on the team's own topics (prefix <team>.), e.g. the destinations of routed subscriptions. Off for an account that only produces.", verbose_name="Can consume the team's own topics"),
        ),
        migrations.AddField(
            model_name='subscription',
            name='destination_change_request',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='onboarding.changerequest'),
        ),
        migrations.AddField(
            model_name='subscription',
            name='destination_name',
            field=models.CharField(blank=True, help_text='The new destination topic to create when approved.', max_length=249),
        ),
        migrations.AlterField(
            model_name='cluster',
            name='bootstrap_servers',
            field=models.CharField(help_text="The portal's admin connection.", max_length=500),
        ),
        migrations.RunPython(reapply_live_accounts, migrations.RunPython.noop),
    ]
