"""Starting the service: loading and checking data/, and the background workers (the sweeper,
the outbox senders, housekeeping, following an admin's rule reload). Above the services, which
it wires together; below the web app and the command line, which call it."""
