"""What every layer may lean on: settings from the environment (with mail's and SMS's), the
deployment data holder, the database connection and schema, logging and the periodic loop."""
