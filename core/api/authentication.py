"""API token authentication: DRF's scheme (same header, same errors), the token's user cached by key
(``annotation.hotpath_cache``) and otherwise read by one hand-written query (``annotation.hotpath_sql``).
``Bearer`` is accepted as well as DRF's ``Token`` prefix: it is what generated OpenAPI clients send."""

import hashlib
from typing import TYPE_CHECKING, cast

from django.contrib.auth import get_user_model
from django.db import router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authentication import get_authorization_header

import annotation.hotpath_cache as hotpath_cache
import annotation.hotpath_sql as hotpath_sql

if TYPE_CHECKING:
    # DRF itself imports the token model only when asked for it (rest_framework.authtoken may be uninstalled).
    from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``. Every API request runs this, and DRF's ``select_related("user").get()``
    spent ~0.7 ms of CPU composing its query, a tenth of a labelling request. The user comes back as the model;
    the token is rebuilt from the key, ``created`` deferred."""

    def authenticate(self, request):
        # DRF compares the header's first word with ``keyword``; an instance serves one request, so taking the
        # prefix the client used keeps DRF's parsing and messages for both (the 401 challenge stays "Token").
        scheme = get_authorization_header(request).split(maxsplit=1)[:1]
        if scheme and scheme[0].lower() == b"bearer":
            self.keyword = "Bearer"
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        # DRF types the token model as any model; the one this scheme serves is its Token.
        token_model, user_model = cast("type[Token]", self.get_model()), get_user_model()
        using = router.db_for_read(user_model)

        def load():
            return hotpath_sql.user_for_token(
                token_model=token_model, user_model=user_model, using=using, key=key
            )

        # Unknown keys are not stored: anyone can send them, and each would take a cache entry. The entry is
        # named by the key's digest, so the cache never holds a usable token.
        digest = hashlib.sha256(key.encode()).hexdigest()
        user = hotpath_cache.cached(
            key=f"hotpath:token:{digest}", versions=(hotpath_cache.AUTH_VERSION,), load=load, store_none=False
        )
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        fields = [token_model._meta.pk.attname, token_model._meta.get_field("user").attname]
        token = token_model.from_db(using, fields, [key, user.pk])
        token.user = user
        return user, token
