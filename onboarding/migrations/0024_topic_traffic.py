import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('onboarding', '0023_consumer_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='TopicTrafficSample',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('topic', models.CharField(max_length=249)),
                ('sampled_at', models.DateTimeField()),
                ('end_offset', models.BigIntegerField(
                    help_text="Sum of the partitions' end offsets: events ever produced.")),
                ('cluster', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                              to='onboarding.cluster')),
            ],
            options={
                'ordering': ['sampled_at'],
                'indexes': [models.Index(fields=['cluster', 'topic', 'sampled_at'], name='traffic_sample_topic'),
                            models.Index(fields=['sampled_at'], name='traffic_sample_age')],
            },
        ),
    ]
