"""The bodies of core's own endpoints (a job's state, the API token) and the job reference every endpoint that
starts a job answers with."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import FreeFormObjectField
from core.models import Job


class JobOutputSerializer(serializers.ModelSerializer):
    params = FreeFormObjectField(help_text="What the job was started with (depends on kind).")
    result = FreeFormObjectField(
        allow_null=True, help_text="What the job produced (depends on kind); null until it ends."
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "result",
            "error",
            "attempts",
            "project",
            "params",
            "created_at",
            "started_at",
            "finished_at",
            "jobs_ahead",
        ]

    jobs_ahead = serializers.SerializerMethodField(
        help_text=(
            "While queued: how many jobs it waits behind, the running ones and those queued before it"
            " (0: it is next); null otherwise."
        )
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_jobs_ahead(self, job: Job) -> int | None:
        return self.context.get("jobs_ahead")


class JobRefSerializer(serializers.Serializer):
    job = serializers.UUIDField()
    status = serializers.CharField()


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
