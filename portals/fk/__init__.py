"""Social insurance stand-in (Försäkringskassan-like): a single-page app loading JSON behind a spinner."""
