"""A live server with the real Celery worker, reached only over HTTP, and one staff account to start from."""

from dataclasses import dataclass

import pytest

from tests.factories import PASSWORD, UserFactory
from tests.invariants.rest import Rest, token_for


@dataclass
class Server:
    base: str
    staff: Rest
    staff_username: str
    staff_password: str


@pytest.fixture
def server(live_server, worker) -> Server:
    # The one account nobody can create over REST: the first staff user (everything else goes through the API).
    staff = UserFactory(is_staff=True)
    base = live_server.url
    return Server(
        base=base,
        staff=Rest(base, token_for(base, staff.username, PASSWORD), name=staff.username),
        staff_username=staff.username,
        staff_password=PASSWORD,
    )
