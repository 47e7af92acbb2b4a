"""TOKEN authorizer: resolves `Authorization: Bearer <key>` to a principal for the whole API.

The policy covers every route of the stage, because API Gateway caches it per key and reuses it for the
next route; per-route rules (scopes, own user only) are applied by the handlers from the context.
"""

import os
from typing import Any

from craiverse import apikeys, ratelimit
from craiverse.auth import limits_context
from craiverse.log import logger

BEARER = "Bearer "


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    token = str(event.get("authorizationToken") or "")
    key = apikeys.lookup(token[len(BEARER) :]) if token.startswith(BEARER) else None
    if key is None:
        logger.info("key rejected")
        # API Gateway answers exactly this message with 401 (the UNAUTHORIZED gateway response).
        raise Exception("Unauthorized")
    logger.info("key accepted", extra={"key_id": key.key_id, "principal_type": key.principal_type.value})
    return {
        "principalId": f"{key.principal_type.value}:{key.principal_id}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": whole_api(event["methodArn"])}
            ],
        },
        "context": {
            "principal_type": key.principal_type.value,
            "principal_id": key.principal_id,
            "key_id": key.key_id,
            "key_kind": key.kind.value,
            "scopes": " ".join(key.scopes),
            "tier": key.tier,
            **limits_context(ratelimit.limits_for(key.tier, key.rate_limits)),
        },
        "usageIdentifierKey": usage_key(key.tier),
    }


def whole_api(method_arn: str) -> str:
    """arn:aws:execute-api:region:account:api/stage/VERB/path -> arn:...:api/stage/*/*"""
    api, stage = method_arn.split("/")[:2]
    return f"{api}/{stage}/*/*"


def usage_key(tier: str) -> str:
    """The API Gateway key of the tier's usage plan (template.yaml: USAGE_KEY_<TIER>)."""
    return os.environ.get(f"USAGE_KEY_{tier.upper()}", "")
