"""What happened to sent mail: the signed SendGrid event webhook, storing each event once, and its effects."""
