"""Running the service: settings, start-up, the database, logging and background workers."""
