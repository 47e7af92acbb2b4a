"""POST /customer/tickets: 201 with the ticket (number e.g. TKT-7K3F9Q2M, status open); queues its email.
Honours an Idempotency-Key header: a retry answers the first ticket."""

from craiverse import tickets
from craiverse.api import Request, Response, endpoint
from craiverse.models import CreateTicket


@endpoint("POST", "/customer/tickets")
def handler(request: Request) -> Response:
    body = request.json(CreateTicket)
    request.principal.authorize(request.route, body.user_id)
    claim = request.idempotency_claim(body)
    ticket, replayed = tickets.create(body, actor=request.principal.key_id, claim=claim)
    return Response.ok(ticket, status=201, replayed=replayed)
