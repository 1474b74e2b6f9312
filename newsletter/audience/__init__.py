"""The audience stage: subscribers, lists, consent, imports and exports, links, suppressions, recipients."""

from newsletter.audience.addresses import InvalidAddress, email_hash, normalise_email
from newsletter.audience.consent import Consent
from newsletter.audience.export import export_list
from newsletter.audience.imports import ImportReport, import_csv
from newsletter.audience.lists import (
    ListSummary,
    create_list,
    get_list,
    get_list_by_public_id,
    list_summaries,
)
from newsletter.audience.one_click import UnsubscribeResult, one_click_unsubscribe
from newsletter.audience.optin import ConfirmationSender, confirm, subscribe
from newsletter.audience.preferences import (
    Preferences,
    get_preferences,
    unsubscribe,
    update_preferences,
)
from newsletter.audience.recipients import Recipient, recipients, suppressed_among
from newsletter.audience.subscribers import (
    SubscriberDetail,
    add_subscriber,
    describe_subscriber,
    erase_subscriber,
    unsubscribe_address,
)
from newsletter.audience.suppressions import add_suppression
from newsletter.audience.tokens import TokenSigner

__all__ = [
    "ConfirmationSender",
    "Consent",
    "ImportReport",
    "InvalidAddress",
    "ListSummary",
    "Preferences",
    "Recipient",
    "SubscriberDetail",
    "TokenSigner",
    "UnsubscribeResult",
    "add_subscriber",
    "add_suppression",
    "confirm",
    "create_list",
    "describe_subscriber",
    "email_hash",
    "erase_subscriber",
    "export_list",
    "get_list",
    "get_list_by_public_id",
    "get_preferences",
    "import_csv",
    "list_summaries",
    "normalise_email",
    "one_click_unsubscribe",
    "recipients",
    "subscribe",
    "suppressed_among",
    "unsubscribe",
    "unsubscribe_address",
    "update_preferences",
]
