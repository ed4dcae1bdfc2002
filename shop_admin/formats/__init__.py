"""Date formats of the project's languages: Django's, with every date and time followed by its UTC offset."""
