# Names vulture (dead-code finder, run by scripts/check) cannot see used, each with the reason it is kept.
# Code reached only by tests does not belong here: remove it, or wire it into the product.
# Click commands, pydantic validators and Alembic revisions are skipped by scripts/check's options.
# ruff: noqa
from newsletter.deliver.transports.memory import MemoryTransport

# Required by a signature we implement (context managers, signal handlers, pydantic-settings, __format__).
tb
trace
exc_info
signum
frame
dotenv_settings
file_secret_settings
spec
deep  # construct_object's signature, declared for the type checker in content/yaml_parsers.py

# Read by frameworks: pydantic model config, SQLAlchemy type hooks, click help, markdown-it, APScheduler.
model_config
impl
cache_ok
_.process_bind_param
_.process_result_value
_.settings_customise_sources
_.format_commands
_.validateLink
_.get_timestamp  # itsdangerous asks the signer for the time (tokens.py: newsletter.clock)
_.formatException  # logging asks a formatter to write an exception (logs.py: one line)
_.normalizeLink
_.__spec__  # importlib reads a deferred module's spec (render/inline.py)
_.wakeup
wake  # APScheduler's job names it by string: "newsletter.worker:wake"
app_from_environment  # uvicorn --factory names it by string (cli/reports.py APP_FACTORY)
pause_command  # click commands built by cli/sends.py's _state_command, named in cli COMMANDS
resume_command
cancel_command

# Fields of editor content (content/schema.py) and chart geometry (web/charts.py) read by Jinja templates.
intro
journal
study_type
population
published
why_it_matters
by
q
toc
src
height
link
caption
headline
button
authors
signoff
ps
primary
accent
muted
surface
logo
font_family
heading_font_family
disclaimer
legal
language
BLOCK_TYPES  # the block types every template test walks
length
label_width
points
pad
_.markdown  # render/text.py TextWriter, called by templates/emails/text/*.txt.j2
_.underline
_.rule
_.has_notes
_.pages  # reports/subscriber_history.py Page, shown by staff/subscriber.html
_.capped  # audience/people/search.py, shown by staff/search.html

# Columns kept as records though no code reads them back yet.
consent_text  # the consent wording a reader agreed to (consent evidence)
last_login_at  # a staff account's last sign-in (written by staff.authenticate)
_.last_login_at

# Seams for tests and tools, part of the product on purpose.
set_clock  # clock.py: the injectable clock
MemoryTransport  # deliver/transports/memory.py: the in-memory Transport
_.script
add_suppression  # audience/people/suppressions.py: suppress one address by hand (tests set up with it)
load_yaml  # content/yaml_loader.py (the editor branch's area): a mapping or ContentError, used by tests
_._me  # deliver/engine/pipeline.py keeps the worker's identity (the engine branch rewrites the loop)

# Fields read by the email templates (Jinja), not by Python.
doi
pmid
issn
fine_print
qr_svg_data_uri  # the account page's QR code image

# An issue given as text rather than a file: the staff console's browser editor (issue 17) loads drafts with it.
load_issue_text

# Columns kept for the record and read by people (through the database), not by code.
password_changed_at
updated_by

# Recorded by approvals (issue 12): the audit log's action names are complete before every action exists.
SEND_APPROVE

# The io protocol: csv.reader asks a file-like object whether it can be read.
_.readable

# lark calls a transformer's methods by the grammar's rule names (content/segments/parse.py).
_.or_test
_.and_test
_.negation
_.exclusion

# Audience-conditional blocks (issue 13, next) evaluate personas with it; the property test holds it to the SQL.
persona_matches
