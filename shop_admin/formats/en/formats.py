"""English date formats: Django's, the time followed by its offset (+0800, shop time), as in the Chinese ones."""
DATETIME_FORMAT = "N j, Y, P O"
SHORT_DATETIME_FORMAT = "m/d/Y P O"
