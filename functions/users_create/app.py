"""POST /users: provisioning (admins, or services holding `users:create`); idempotent on email.

201 with the new profile, its account opened with the signup bonus and the welcome email queued;
200 with the existing profile when the email already belongs to a user (nothing changes).
"""

from craiverse import provisioning
from craiverse.api import Request, Response, endpoint
from craiverse.models import CreateUser


@endpoint("POST", "/users")
def handler(request: Request) -> Response:
    body = request.json(CreateUser)
    request.principal.authorize(request.route)
    user, created = provisioning.sign_up(body, actor=request.principal.key_id)
    return Response.ok(user.view(), status=201 if created else 200)
