"""What the OpenAPI schema says beyond the views' own ``@extend_schema``: the one error body every operation can
answer (from ``core.api.errors.exception_handler``), the statuses it comes with, and the token scheme.

Statuses are derived from what DRF and the exception handler really do for a view, so a new view documents them
without a decorator: 401/403 where authentication is required, 404 where the path names an object or a page,
400 where a body or query is validated, 415 where a body is read, 429 where a throttle applies, 503 everywhere
(the database outage answer). Domain conflicts (409) are declared by the views that raise them."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ApiErrorSerializer(serializers.Serializer):
    """Every error body. Validation errors also carry one key per invalid field, with its messages."""

    detail = serializers.CharField(required=False, help_text="What went wrong, in words.")
    code = serializers.CharField(
        required=False,
        help_text="A stable machine-readable reason where one exists, e.g. guideline_ack_required, "
        "stale_guideline, item_full, item_discarded, item_already_seen, quality_run_active, train_job_active.",
    )
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    guideline_version = serializers.IntegerField(
        required=False, help_text="With code guideline_ack_required: the version to acknowledge first."
    )
    job = serializers.UUIDField(
        required=False, help_text="With code quality_run_active or train_job_active: the job already running."
    )


class ApiErrorSerializerExtension(OpenApiSerializerExtension):
    target_class = ApiErrorSerializer

    def get_name(self, auto_schema, direction):
        return "Error"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        # Field errors use the invalid field's name as the key: a list of messages, or an object/list of them
        # for nested and list inputs.
        schema["additionalProperties"] = True
        return schema


def error_response(description: str) -> OpenApiResponse:
    """A documented error status with the standard error body, for ``@extend_schema(responses=...)``."""
    return OpenApiResponse(ApiErrorSerializer, description=description)


_GENERIC = {
    "400": "The request body or query is invalid; the body names each invalid field.",
    "401": "No credentials, or an invalid or inactive token.",
    "403": "Authenticated but not allowed (role in the project, staff only, or a session write without CSRF).",
    "404": "The object named in the path (or the page) does not exist or is not visible to you.",
    "415": "The body is not in the declared media type.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
    "503": "The database is temporarily unavailable; nothing was changed. Retry after Retry-After seconds.",
}
_PAGE_PARAMS = {"page", "page_size"}


class LabelgateAutoSchema(AutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        # Only "optional, none known" (the token endpoint): no security at all, so generators let a client
        # without a token call it.
        return [] if auths == [{}] else auths

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._error_body(code, _GENERIC[code])
        for code, response in responses.items():
            # A view may declare an error status with a description only: give it the error body.
            if code.startswith(("4", "5")) and "content" not in response:
                responses[code] = self._error_body(code, response.get("description", _GENERIC.get(code, "")))
        return responses

    def _error_body(self, code: str, description: str) -> dict:
        body = self._get_response_for_code(ApiErrorSerializer, code, ["application/json"], "response")
        body["description"] = description
        return body

    def _error_codes(self) -> list[str]:
        codes = []
        body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        query = [
            p for p in self._get_parameters() if p.get("in") == "query" and p["name"] not in _PAGE_PARAMS
        ]
        if body or query:
            codes.append("400")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if (
            "{" in self.path
            or getattr(self.view, "pagination_class", None) is not None
            and self.method == "GET"
        ):
            codes.append("404")
        if body:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        codes.append("503")
        return codes


class TokenSchemeExtension(OpenApiAuthenticationExtension):
    """Documented as HTTP bearer, which generated clients send by default; ``Token <key>`` works the same."""

    target_class = "core.api.authentication.TokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from POST /api/auth/token/, sent as `Authorization: Token <key>` "
            "(DRF's prefix) or `Authorization: Bearer <key>` (the default of generated clients).",
        }
