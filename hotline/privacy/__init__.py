"""Who may see what of a complainant and a report: viewing rules, masking, the confirmed text."""
