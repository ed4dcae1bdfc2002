"""The shell that composes the apps: the API mount, the console's dashboard and navigation, sign-in, demo data."""
