"""The route table in craiverse.routes and template.yaml describe the same API, with the same limits."""

import pytest

from craiverse import ratelimit
from craiverse.routes import ROUTES, Category
from devkit.template import SamTemplate, load_template
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def template() -> SamTemplate:
    return load_template(ROOT / "template.yaml")


def test_every_template_route_has_a_scope_and_a_rate_category(template: SamTemplate) -> None:
    deployed = {(route.method.upper(), route.path) for route in template.routes()}

    assert deployed == set(ROUTES), "add new routes to craiverse.routes.ROUTES with a category"
    for spec in ROUTES.values():
        assert spec.category in set(Category)
        assert (spec.category == Category.WEBHOOK) == (spec.scope is None)


def test_only_webhook_routes_skip_the_authorizer(template: SamTemplate) -> None:
    for route in template.routes():
        spec = ROUTES[(route.method.upper(), route.path)]
        assert route.auth_none == (spec.category == Category.WEBHOOK), route.path


def test_usage_plan_limits_match_the_applications_hourly_limits(template: SamTemplate) -> None:
    tiers = template.data["Mappings"]["TierLimits"]

    assert set(tiers) == set(ratelimit.TIER_LIMITS)
    for tier, limits in tiers.items():
        hourly = {"read": limits["HourlyRead"], "write": limits["HourlyWrite"], "ai": limits["HourlyAi"]}
        assert hourly == ratelimit.TIER_LIMITS[tier]
        assert limits["DailyQuota"] == 24 * sum(hourly.values()) * limits["KeyBudget"]
        assert limits["BurstLimit"] >= limits["RateLimit"]
