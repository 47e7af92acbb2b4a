"""POST /credits/deduct: atomic, never overdraws; honours an Idempotency-Key header."""

from craiverse import credits
from craiverse.api import Request, Response, endpoint
from craiverse.models import DeductCredits


@endpoint("POST", "/credits/deduct")
def handler(request: Request) -> Response:
    body = request.json(DeductCredits)
    request.principal.authorize(request.route, body.user_id)
    claim = request.idempotency_claim(body)
    movement = credits.deduct(body, actor=request.principal.key_id, claim=claim)
    return Response.ok(movement.body, replayed=movement.replayed)
