"""Statistics and reports from the box's own records (CDRs, call events, agent events)."""
