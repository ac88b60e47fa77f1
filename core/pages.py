"""The access check of every HTML page inside one project, written once.

The answers are the API's in page terms: an anonymous caller is sent to the login page; a caller who is not a
member gets 404 (a project's existence is not revealed); a member below the page's role gets 403. Staff act as
managers everywhere.
"""

import functools
from collections.abc import Callable, Sequence

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.decorators.http import require_http_methods

from annotation.models import Role
from core.errors import Forbidden, NotFound
from core.permissions import project_for_role


def project_page(*, role: str, methods: Sequence[str] | None = None) -> Callable:
    """Decorate a view whose URL names the project as ``pid``; the view is called as
    ``view(request, project, membership, **other_url_kwargs)`` (``membership`` is None for staff without one).

    ``methods`` limits the HTTP methods (405 otherwise), checked after login and before the project, as
    ``@require_http_methods`` under ``@login_required`` does."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def page(request, pid: int, *args, **kwargs):
            try:
                project, membership = project_for_role(user=request.user, project_id=pid, role=role)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except Forbidden as exc:
                # Raised, not returned, so the page is templates/403.html with the reason in words.
                raise PermissionDenied(exc.message) from exc
            # What the project navigation in base.html reads (config.navigation): the page's project and the
            # role the caller acts in, known here once for every project page.
            request.labelgate_project = project
            request.labelgate_role = membership.role if membership else Role.MANAGER
            return view(request, project, membership, *args, **kwargs)

        checked = require_http_methods(list(methods))(page) if methods else page
        return login_required(checked)

    return decorate
