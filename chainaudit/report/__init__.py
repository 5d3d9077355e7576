"""Reports: the verdict and exit code, what a run proved (assurance), which checks ran, and the text, JSON, JUnit and HTML renderings."""
