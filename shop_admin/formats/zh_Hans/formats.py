"""Chinese date formats: Django's, the time followed by its offset (+0800, shop time).

Django's default formats print a time with no zone, so in the admin, beside values a
platform user may read as UTC (the database, the logs), nothing says which clock it is.
"""
DATETIME_FORMAT = "Y年n月j日 H:i O"
SHORT_DATETIME_FORMAT = "Y/m/d G:i O"
