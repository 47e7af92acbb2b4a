"""GET /credits/balance?user_id= -> {user_id, balance, lifetime_earned, lifetime_spent}"""

from craiverse import credits
from craiverse.api import Request, Response, endpoint
from craiverse.models import UserQuery


@endpoint("GET", "/credits/balance")
def handler(request: Request) -> Response:
    query = request.query(UserQuery)
    request.principal.authorize(request.route, query.user_id)
    return Response.ok(credits.balance(query.user_id).view())
