"""GET /user/profile?user_id= -> {user_id, email, display_name, avatar_url, plan, created_at, updated_at}"""

from craiverse import users
from craiverse.api import Request, Response, endpoint
from craiverse.models import UserQuery


@endpoint("GET", "/user/profile")
def handler(request: Request) -> Response:
    query = request.query(UserQuery)
    request.principal.authorize(request.route, query.user_id)
    return Response.ok(users.require(query.user_id).view())
