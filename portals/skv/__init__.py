"""Population register stand-in (Skatteverket-like): server-rendered search form and result tables."""
