"""Benchmarks of the CRAIverse API (not tests): round trips, cold start, warm overhead, contention and cost.

`make bench` (`python -m benchmarks`) measures every figure on loopback servers it starts itself and
rewrites the tables of BENCHMARKS.md. Nothing here is deployed.
"""
