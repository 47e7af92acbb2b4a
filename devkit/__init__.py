"""Developer tools that are never deployed: the local runner, seeding and the admin command line."""
