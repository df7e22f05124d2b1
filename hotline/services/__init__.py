"""Services: keyword-only async functions that do I/O around the pure core."""
