"""GET /customer/tickets?user_id=[&status=][&limit=][&cursor=] -> {tickets, next_cursor}, newest first."""

from craiverse import tickets
from craiverse.api import Request, Response, endpoint
from craiverse.models import TicketsQuery


@endpoint("GET", "/customer/tickets")
def handler(request: Request) -> Response:
    query = request.query(TicketsQuery)
    request.principal.authorize(request.route, query.user_id)
    listing = tickets.list_for(query.user_id, status=query.status, limit=query.limit, cursor=query.cursor)
    return Response.ok(listing.view())
