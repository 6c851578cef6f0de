"""One load from end to end (inputs → staging → star schema), its dry run, and load history."""
