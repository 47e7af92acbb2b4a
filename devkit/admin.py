"""Operator command line: create users, create keys (shown once), list and revoke keys, set key limits.

    python -m devkit.admin [--table NAME] [--endpoint-url URL] COMMAND ...

Against AWS it uses your usual credentials and region; `--endpoint-url http://127.0.0.1:PORT` points it
at a local backend (the runner prints its endpoint). TABLE_NAME may replace --table.
"""

import argparse
import json
import os
import re
import sys
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from craiverse import apikeys, clock, provisioning, ratelimit, users


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.table:
        os.environ["TABLE_NAME"] = args.table
    if args.endpoint_url:
        _use_local_backend(args.endpoint_url)
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    if not os.environ.get("TABLE_NAME"):
        return _fail("give --table or set TABLE_NAME")
    try:
        result = args.command(args)
    except (ValueError, LookupError) as err:
        return _fail(str(err))
    except (BotoCoreError, ClientError) as err:
        return _fail(f"AWS refused: {err}")
    _emit(result)
    return 0


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _use_local_backend(endpoint_url: str) -> None:
    """A local backend takes any credentials; never send real ones to it."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    if urlparse(endpoint_url).hostname in {"127.0.0.1", "localhost", "::1"}:
        os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # noqa: S106 - not a secret
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)


def create_user(args: argparse.Namespace) -> dict[str, Any]:
    if not EMAIL.fullmatch(args.email.strip()):
        raise ValueError("--email must be an email address such as ada@example.com")
    user, created = provisioning.create_user(email=args.email, display_name=args.display_name, plan=args.plan)
    return {"user_id": user.user_id, "email": user.email, "created": created}


def create_key(args: argparse.Namespace) -> dict[str, Any]:
    principal_type = apikeys.PrincipalType(args.principal_type)
    if principal_type is apikeys.PrincipalType.USER and users.get(args.principal_id) is None:
        raise LookupError(f"no user {args.principal_id}")
    scopes = tuple(args.scopes.split()) if args.scopes is not None else None
    secret, key = apikeys.create(
        principal_type=principal_type,
        principal_id=args.principal_id,
        kind=apikeys.KeyKind(args.kind),
        scopes=scopes,
        tier=args.tier,
        name=args.name,
        created_at=clock.iso(clock.now()),
    )
    return {**key.public_view(), "key": secret, "note": "Store this key now: it is not shown again."}


def list_keys(_args: argparse.Namespace) -> list[dict[str, Any]]:
    return [key.public_view() for key in apikeys.list_keys()]


def revoke_key(args: argparse.Namespace) -> dict[str, Any]:
    return apikeys.revoke(args.key_id, clock.iso(clock.now())).public_view()


def set_limits(args: argparse.Namespace) -> dict[str, Any]:
    chosen: dict[str, int | None] = {c.value: getattr(args, c.value) for c in ratelimit.COUNTED}
    limits = {} if args.clear else {c: v for c, v in chosen.items() if v is not None}
    if not limits and not args.clear:
        raise ValueError("give --read, --write or --ai, or --clear")
    key = apikeys.set_rate_limits(args.key_id, limits)
    return {**key.public_view(), "rate_limits": ratelimit.limits_for(key.tier, key.rate_limits)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devkit.admin", description=__doc__.split("\n")[0])
    parser.add_argument("--table", help="DynamoDB table (default: $TABLE_NAME)")
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local runner's embedded backend")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    user = commands.add_parser("create-user", help="create a user (idempotent on email)")
    user.add_argument("--email", required=True)
    user.add_argument("--display-name")
    user.add_argument("--plan", default="free")
    user.set_defaults(command=create_user)

    key = commands.add_parser("create-key", help="create an API key; the key is printed once")
    key.add_argument("--principal-type", required=True, choices=[t.value for t in apikeys.PrincipalType])
    key.add_argument("--principal-id", required=True, help="user id, service name or admin name")
    key.add_argument("--kind", default="secret", choices=[k.value for k in apikeys.KeyKind])
    key.add_argument("--scopes", help="space-separated scopes (default: the principal type's defaults)")
    key.add_argument("--tier", default="free", choices=apikeys.TIERS)
    key.add_argument("--name", default="")
    key.set_defaults(command=create_key)

    commands.add_parser("list-keys", help="list keys (never their secrets)").set_defaults(command=list_keys)

    revoke = commands.add_parser("revoke-key", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(command=revoke_key)

    limits = commands.add_parser("set-limits", help="override a key's hourly limits (per category)")
    limits.add_argument("key_id")
    for category in ratelimit.COUNTED:
        limits.add_argument(
            f"--{category.value}", type=_non_negative, help=f"{category.value} requests per hour"
        )
    limits.add_argument("--clear", action="store_true", help="use the tier's limits again")
    limits.set_defaults(command=set_limits)
    return parser


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _emit(result: Any) -> None:
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
