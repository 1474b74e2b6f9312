"""The web shell (Starlette): the SendGrid event webhook and staff report pages; thin over the stages."""
