"""Community radio: summaries of what callers raised, moderated quotes and clips, scripts, bulletins, feed.

Extractive only: every number comes from the database, every quoted phrase verbatim from a redacted
transcript of a message whose caller chose on-air consent and that a host approved. Nothing here
writes prose about callers; the stations' sentences are data in menus/radio/<lang>.toml.
"""
