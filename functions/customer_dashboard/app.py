"""GET /customer/dashboard?user_id= -> {user, credits, subscription, recent_activity, stats}"""

from craiverse import dashboard
from craiverse.api import Request, Response, endpoint
from craiverse.models import UserQuery


@endpoint("GET", "/customer/dashboard")
def handler(request: Request) -> Response:
    query = request.query(UserQuery)
    request.principal.authorize(request.route, query.user_id)
    return Response.ok(dashboard.build(query.user_id))
