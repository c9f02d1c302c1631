"""Schema revisions, oldest first: 0001 the initial schema, 0002 result hashes and a leaderboard index."""
