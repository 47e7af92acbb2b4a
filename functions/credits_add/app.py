"""POST /credits/add: idempotent on (source, source_reference)."""

from craiverse import credits
from craiverse.api import Request, Response, endpoint
from craiverse.models import AddCredits


@endpoint("POST", "/credits/add")
def handler(request: Request) -> Response:
    body = request.json(AddCredits)
    request.principal.authorize(request.route, body.user_id)
    movement = credits.add(body, actor=request.principal.key_id)
    return Response.ok(movement.body, replayed=movement.replayed)
