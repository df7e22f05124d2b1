"""The ticket domain: models, the action table, request and response bodies, the vocabulary."""
