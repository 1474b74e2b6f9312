"""What readers do through signed links: subscribe and confirm, one-click unsubscribe, preferences."""
