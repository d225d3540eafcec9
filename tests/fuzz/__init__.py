"""Hostile input sent to every form and every import through the real views.

Each page a person may open is read as a browser would (its POST forms, their
fields, options and buttons), then submitted with generated values: scripts with a
marker, SQL fragments, control characters, odd unicode, impossible numbers and
dates, and the other organisation's ids in every select and hidden field. Whatever
comes back must not be a server error, must not save anything when it shows the
form's errors again, must never echo the marker inside a script, and must never
leave a row pointing at the other organisation.
"""
