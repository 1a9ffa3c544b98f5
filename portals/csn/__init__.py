"""Study aid stand-in (CSN-like): a search page and a downloadable payment statement (CSV)."""
