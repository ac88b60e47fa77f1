from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core import selectors
from core.api import serializers as s
from core.errors import NotFound, ValidationFailed


class LoginRateThrottle(AnonRateThrottle):
    scope = "login"


class TokenObtainApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginRateThrottle]
    # A form body still works for `curl -d` scripts written against DRF's obtain_auth_token; the schema
    # declares JSON only, so generated clients have one body type.
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request={"application/json": s.TokenInputSerializer}, responses=s.TokenOutputSerializer)
    def post(self, request):
        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:
            raise ValidationFailed("Unable to log in with these credentials.", field="non_field_errors")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class JobDetailApi(APIView):
    @extend_schema(responses=s.JobOutputSerializer)
    def get(self, request, job_id):
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            raise NotFound("Job not found.")
        ahead = selectors.job_jobs_ahead(job=job)
        return Response(s.JobOutputSerializer(job, context={"jobs_ahead": ahead}).data)
