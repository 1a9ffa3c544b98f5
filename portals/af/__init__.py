"""Employment service stand-in (Arbetsförmedlingen-like): the job-seeker status is shown inside an iframe."""
