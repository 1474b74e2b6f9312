"""People and lists: subscribers, lists, memberships, consent, suppressions, search, who is mailable."""
