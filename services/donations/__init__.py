"""donations: fundraising campaigns called by branches and committees, and the gifts they take."""
