# Service-account ACL choices and adopted exceptions, client bootstrap servers, pending routed destinations.

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('history', '0001_tracked_models'),
        ('onboarding', '0012_access_client_settings_acls'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedcluster',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedcluster',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedcluster',
            name='delete_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedserviceaccount',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedserviceaccount',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedserviceaccount',
            name='delete_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedsubscription',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedsubscription',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedsubscription',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='clusterevent',
            name='client_bootstrap_servers',
            field=models.CharField(blank=True, help_text="The SASL listener that teams' applications connect to with their service accounts (shown in the client settings). Empty: the admin address, when it is itself a SASL listener.", max_length=500, verbose_name='Client bootstrap servers'),
        ),
        migrations.AddField(
            model_name='serviceaccountevent',
            name='acl_exceptions',
            field=models.JSONField(blank=True, default=dict, help_text="ACL drift adopted as desired: {'accepted': [...], 'waived': [...]}."),
        ),
        migrations.AddField(
            model_name='serviceaccountevent',
            name='can_consume_own_topics',
            field=models.BooleanField(default=True, help_text="READ on the team's own topics (prefix <team>.), e.g. the destinations of routed subscriptions. Off for an account that only produces.", verbose_name="Can consume the team's own topics"),
        ),
        migrations.AddField(
            model_name='subscriptionevent',
            name='destination_change_request',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='onboarding.changerequest'),
        ),
        migrations.AddField(
            model_name='subscriptionevent',
            name='destination_name',
            field=models.CharField(blank=True, help_text='The new destination topic to create when approved.', max_length=249),
        ),
        migrations.AlterField(
            model_name='clusterevent',
            name='bootstrap_servers',
            field=models.CharField(help_text="The portal's admin connection.", max_length=500),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedcluster',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_clusterevent" ("bootstrap_servers", "client_bootstrap_servers", "drift_reaction", "environment", "id", "is_active", "name", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reconcile_interval_seconds", "registry_password_ref", "registry_url", "registry_username_ref", "sasl_mechanism", "sasl_password_ref", "sasl_username_ref", "security_protocol", "ssl_ca_location") VALUES (NEW."bootstrap_servers", NEW."client_bootstrap_servers", NEW."drift_reaction", NEW."environment", NEW."id", NEW."is_active", NEW."name", NEW."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reconcile_interval_seconds", NEW."registry_password_ref", NEW."registry_url", NEW."registry_username_ref", NEW."sasl_mechanism", NEW."sasl_password_ref", NEW."sasl_username_ref", NEW."security_protocol", NEW."ssl_ca_location"); RETURN NULL;', hash='78aefbf980ebcc22bb1b4cf6a112f687cf49fc5b', operation='INSERT', pgid='pgtrigger_insert_insert_54ffa', table='onboarding_cluster', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedcluster',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."bootstrap_servers" IS DISTINCT FROM (NEW."bootstrap_servers") OR OLD."client_bootstrap_servers" IS DISTINCT FROM (NEW."client_bootstrap_servers") OR OLD."drift_reaction" IS DISTINCT FROM (NEW."drift_reaction") OR OLD."environment" IS DISTINCT FROM (NEW."environment") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."is_active" IS DISTINCT FROM (NEW."is_active") OR OLD."name" IS DISTINCT FROM (NEW."name") OR OLD."order" IS DISTINCT FROM (NEW."order") OR OLD."reconcile_interval_seconds" IS DISTINCT FROM (NEW."reconcile_interval_seconds") OR OLD."registry_password_ref" IS DISTINCT FROM (NEW."registry_password_ref") OR OLD."registry_url" IS DISTINCT FROM (NEW."registry_url") OR OLD."registry_username_ref" IS DISTINCT FROM (NEW."registry_username_ref") OR OLD."sasl_mechanism" IS DISTINCT FROM (NEW."sasl_mechanism") OR OLD."sasl_password_ref" IS DISTINCT FROM (NEW."sasl_password_ref") OR OLD."sasl_username_ref" IS DISTINCT FROM (NEW."sasl_username_ref") OR OLD."security_protocol" IS DISTINCT FROM (NEW."security_protocol") OR OLD."ssl_ca_location" IS DISTINCT FROM (NEW."ssl_ca_location"))', func='INSERT INTO "history_clusterevent" ("bootstrap_servers", "client_bootstrap_servers", "drift_reaction", "environment", "id", "is_active", "name", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reconcile_interval_seconds", "registry_password_ref", "registry_url", "registry_username_ref", "sasl_mechanism", "sasl_password_ref", "sasl_username_ref", "security_protocol", "ssl_ca_location") VALUES (NEW."bootstrap_servers", NEW."client_bootstrap_servers", NEW."drift_reaction", NEW."environment", NEW."id", NEW."is_active", NEW."name", NEW."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reconcile_interval_seconds", NEW."registry_password_ref", NEW."registry_url", NEW."registry_username_ref", NEW."sasl_mechanism", NEW."sasl_password_ref", NEW."sasl_username_ref", NEW."security_protocol", NEW."ssl_ca_location"); RETURN NULL;', hash='c3065b68328c0da8fac18d7a439caceda40bbdc1', operation='UPDATE', pgid='pgtrigger_update_update_ea727', table='onboarding_cluster', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedcluster',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_clusterevent" ("bootstrap_servers", "client_bootstrap_servers", "drift_reaction", "environment", "id", "is_active", "name", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reconcile_interval_seconds", "registry_password_ref", "registry_url", "registry_username_ref", "sasl_mechanism", "sasl_password_ref", "sasl_username_ref", "security_protocol", "ssl_ca_location") VALUES (OLD."bootstrap_servers", OLD."client_bootstrap_servers", OLD."drift_reaction", OLD."environment", OLD."id", OLD."is_active", OLD."name", OLD."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reconcile_interval_seconds", OLD."registry_password_ref", OLD."registry_url", OLD."registry_username_ref", OLD."sasl_mechanism", OLD."sasl_password_ref", OLD."sasl_username_ref", OLD."security_protocol", OLD."ssl_ca_location"); RETURN NULL;', hash='c1227cbbb1afbc0c63e777dbd01c6829be6a50e9', operation='DELETE', pgid='pgtrigger_delete_delete_2db76', table='onboarding_cluster', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedserviceaccount',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_serviceaccountevent" ("acl_exceptions", "can_consume_own_topics", "cluster_id", "created_at", "delete_requested_at", "description", "generation", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "team_id", "username") VALUES (NEW."acl_exceptions", NEW."can_consume_own_topics", NEW."cluster_id", NEW."created_at", NEW."delete_requested_at", NEW."description", NEW."generation", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."team_id", NEW."username"); RETURN NULL;', hash='6ff24838136265c894f55be3653213c7249e6a93', operation='INSERT', pgid='pgtrigger_insert_insert_7c89d', table='onboarding_serviceaccount', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedserviceaccount',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."acl_exceptions" IS DISTINCT FROM (NEW."acl_exceptions") OR OLD."can_consume_own_topics" IS DISTINCT FROM (NEW."can_consume_own_topics") OR OLD."cluster_id" IS DISTINCT FROM (NEW."cluster_id") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."delete_requested_at" IS DISTINCT FROM (NEW."delete_requested_at") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."generation" IS DISTINCT FROM (NEW."generation") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."name" IS DISTINCT FROM (NEW."name") OR OLD."team_id" IS DISTINCT FROM (NEW."team_id") OR OLD."username" IS DISTINCT FROM (NEW."username"))', func='INSERT INTO "history_serviceaccountevent" ("acl_exceptions", "can_consume_own_topics", "cluster_id", "created_at", "delete_requested_at", "description", "generation", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "team_id", "username") VALUES (NEW."acl_exceptions", NEW."can_consume_own_topics", NEW."cluster_id", NEW."created_at", NEW."delete_requested_at", NEW."description", NEW."generation", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."team_id", NEW."username"); RETURN NULL;', hash='ce2c1423c575eed0a4277c17e10a17b18db4877b', operation='UPDATE', pgid='pgtrigger_update_update_d5bcf', table='onboarding_serviceaccount', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedserviceaccount',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_serviceaccountevent" ("acl_exceptions", "can_consume_own_topics", "cluster_id", "created_at", "delete_requested_at", "description", "generation", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "team_id", "username") VALUES (OLD."acl_exceptions", OLD."can_consume_own_topics", OLD."cluster_id", OLD."created_at", OLD."delete_requested_at", OLD."description", OLD."generation", OLD."id", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."team_id", OLD."username"); RETURN NULL;', hash='8e8370db87a0d4bee226006e96134fafcaa83fd9', operation='DELETE', pgid='pgtrigger_delete_delete_0ff7d', table='onboarding_serviceaccount', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedsubscription',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_subscriptionevent" ("created_at", "decided_at", "decided_by_id", "decision", "decision_comment", "delete_requested_at", "destination_change_request_id", "destination_id", "destination_name", "filter", "generation", "id", "mode", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_by_id", "service_account_id", "source_id", "subscriber_id") VALUES (NEW."created_at", NEW."decided_at", NEW."decided_by_id", NEW."decision", NEW."decision_comment", NEW."delete_requested_at", NEW."destination_change_request_id", NEW."destination_id", NEW."destination_name", NEW."filter", NEW."generation", NEW."id", NEW."mode", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reason", NEW."requested_by_id", NEW."service_account_id", NEW."source_id", NEW."subscriber_id"); RETURN NULL;', hash='e9025dfa0fc6d243543d2f8514298c55cb15810d', operation='INSERT', pgid='pgtrigger_insert_insert_b1e48', table='onboarding_subscription', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedsubscription',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."decided_at" IS DISTINCT FROM (NEW."decided_at") OR OLD."decided_by_id" IS DISTINCT FROM (NEW."decided_by_id") OR OLD."decision" IS DISTINCT FROM (NEW."decision") OR OLD."decision_comment" IS DISTINCT FROM (NEW."decision_comment") OR OLD."delete_requested_at" IS DISTINCT FROM (NEW."delete_requested_at") OR OLD."destination_id" IS DISTINCT FROM (NEW."destination_id") OR OLD."destination_change_request_id" IS DISTINCT FROM (NEW."destination_change_request_id") OR OLD."destination_name" IS DISTINCT FROM (NEW."destination_name") OR OLD."filter" IS DISTINCT FROM (NEW."filter") OR OLD."generation" IS DISTINCT FROM (NEW."generation") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."mode" IS DISTINCT FROM (NEW."mode") OR OLD."reason" IS DISTINCT FROM (NEW."reason") OR OLD."requested_by_id" IS DISTINCT FROM (NEW."requested_by_id") OR OLD."service_account_id" IS DISTINCT FROM (NEW."service_account_id") OR OLD."source_id" IS DISTINCT FROM (NEW."source_id") OR OLD."subscriber_id" IS DISTINCT FROM (NEW."subscriber_id"))', func='INSERT INTO "history_subscriptionevent" ("created_at", "decided_at", "decided_by_id", "decision", "decision_comment", "delete_requested_at", "destination_change_request_id", "destination_id", "destination_name", "filter", "generation", "id", "mode", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_by_id", "service_account_id", "source_id", "subscriber_id") VALUES (NEW."created_at", NEW."decided_at", NEW."decided_by_id", NEW."decision", NEW."decision_comment", NEW."delete_requested_at", NEW."destination_change_request_id", NEW."destination_id", NEW."destination_name", NEW."filter", NEW."generation", NEW."id", NEW."mode", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reason", NEW."requested_by_id", NEW."service_account_id", NEW."source_id", NEW."subscriber_id"); RETURN NULL;', hash='5a150141b14ef878f0d86e8bd78683d9533431cd', operation='UPDATE', pgid='pgtrigger_update_update_d6742', table='onboarding_subscription', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedsubscription',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "history_subscriptionevent" ("created_at", "decided_at", "decided_by_id", "decision", "decision_comment", "delete_requested_at", "destination_change_request_id", "destination_id", "destination_name", "filter", "generation", "id", "mode", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_by_id", "service_account_id", "source_id", "subscriber_id") VALUES (OLD."created_at", OLD."decided_at", OLD."decided_by_id", OLD."decision", OLD."decision_comment", OLD."delete_requested_at", OLD."destination_change_request_id", OLD."destination_id", OLD."destination_name", OLD."filter", OLD."generation", OLD."id", OLD."mode", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reason", OLD."requested_by_id", OLD."service_account_id", OLD."source_id", OLD."subscriber_id"); RETURN NULL;', hash='aefd536a1932a3c9c98f2f81f54184c6589b67b9', operation='DELETE', pgid='pgtrigger_delete_delete_59281', table='onboarding_subscription', when='AFTER')),
        ),
    ]
