"""PATCH /user/profile: changes display_name and/or avatar_url (null removes the avatar)."""

from craiverse import clock, users
from craiverse.api import Request, Response, endpoint
from craiverse.models import ProfileUpdate


@endpoint("PATCH", "/user/profile")
def handler(request: Request) -> Response:
    body = request.json(ProfileUpdate)
    request.principal.authorize(request.route, body.user_id)
    user = users.update_profile(body.user_id, body.changes(), clock.iso(clock.now()))
    return Response.ok(user.view())
