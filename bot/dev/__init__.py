"""Developer and demo tools around the robot: the sandbox launcher, the demo, the benchmark with its plain-HTTP
floor and Selenium peer, and the virtual screen for the desktop channel. The night never imports this package."""
