"""The structured logger every module uses: fixed messages plus fields, never keys or bodies."""

from aws_lambda_powertools import Logger

logger = Logger(service="craiverse-api")
