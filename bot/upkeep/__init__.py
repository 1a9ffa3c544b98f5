"""Keeping the robot's view of the screens true: the screen check (preflight, `casebot check-selectors`) and the
selector recorder (`casebot record`). Above the drivers, which they use to walk to each screen."""
