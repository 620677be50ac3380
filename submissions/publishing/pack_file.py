"""The synthesis pack's PDF as a stored file, made by the task worker, never in a request.

A big pack takes WeasyPrint minutes (376 pages took 22 s; hundreds of contributions take
longer), past a proxy's timeout, and would hold an app server's thread all that while. So staff
ask for it (`request_pdf`, in the request: one query to count what it prints, one row written,
one task queued in the same transaction) and a task worker makes it (`make_pack_pdf`) from the
options as they were when asked, and keeps it in the attachments' private storage (local disk,
or S3) under packs/: one file per call, the previous one deleted once the next is asked for.
The admin's status page (review/admin/outcome.py) shows where it is, and downloads it through a
permission-checked view.

The task is on a queue of its own, "documents", served by its own worker
(`manage.py db_worker --queue-name documents`, which `make run` starts beside the emails'):
a worker does one task at a time, and no receipt or link may wait minutes behind a PDF.
It holds no transaction while it renders: on SQLite the server and the worker share one file.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ..common.storage import get_attachment_storage
from ..models import (
    DEFAULT_SECONDS_PER_ENTRY,
    NO_THEME_ID,
    Call,
    SynthesisPack,
    SynthesisPackPdf,
    Theme,
    pack_pdf_key,
)
from .pack import NO_THEME, build_pack, options_for, printed, render_pdf

logger = logging.getLogger(__name__)

# Not the emails' queue ("default"): settings.TASKS lists both, and each has its own worker.
QUEUE = "documents"
# Below the emails' (0): a worker that takes both queues (`--queue-name '*'`) still sends a
# waiting email before it starts a PDF.
PRIORITY = -10
# A contribution withdrawn or erased while its PDF was made: made again, this many times at most.
ATTEMPTS = 3
State = SynthesisPackPdf.State


def request_pdf(call: Call, *, by_name: str, again: bool = False) -> tuple[SynthesisPackPdf, bool]:
    """Ask the worker for a PDF of the pack as it is chosen now; returns (the row, whether a
    new one was started). Without `again`, a ready PDF that is still up to date is kept."""
    options = options_for(call)
    ids, entries = printed(call, options)
    with transaction.atomic():
        pdf, started = SynthesisPackPdf.request(
            call, options, printed=ids, entries=entries, by_name=by_name, again=again
        )
        if started:
            make_pack_pdf.enqueue(pdf.pk, str(pdf.job))
    return pdf, started


@task(queue_name=QUEUE, priority=PRIORITY)
def make_pack_pdf(pdf_id: int, job: str) -> str:
    """Make the PDF of one request, if it is still the one asked for, and store it."""
    if not SynthesisPackPdf.claim(pdf_id, job):
        return "not due"
    pdf = SynthesisPackPdf.objects.select_related("call").get(pk=pdf_id)
    storage = get_attachment_storage()
    for _ in range(ATTEMPTS):
        started = time.monotonic()
        try:
            pack = build_pack(pdf.call, pdf.options())
            rendered = render_pdf(pack)
            name = storage.save(pack_pdf_key(pdf, ""), ContentFile(rendered.data))
        except Exception as error:
            logger.exception("The synthesis pack PDF of call %s could not be made", pdf.call_id)
            pdf.record_failure(job, f"{type(error).__name__}: {error}"[:1000])
            return "failed"
        outcome = pdf.store(
            job,
            name=name,
            size=len(rendered.data),
            pages=rendered.pages,
            contributions=pack.submission_ids,
            seconds=time.monotonic() - started,
        )
        if outcome == "stored":
            return "ready"
        delete_quietly(storage, name)
        if outcome == "superseded":
            return "superseded"
    pdf.record_failure(
        job, "Contributions in it were withdrawn or erased while it was being made. Try again."
    )
    return "failed"


def delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete the pack PDF %s (sweep_files will)", name)


@dataclass
class PdfStatus:
    """What the PDF's page says: where it is, how long it takes, and whether it is out of date."""

    state: str  # "none", or a SynthesisPackPdf.State
    pdf: SynthesisPackPdf | None
    entries: int  # what the PDF asked for prints (or, with none, what one would print now)
    estimate: float  # seconds
    estimated_from_last: bool  # from this call's last PDF, else from the benchmark's rate
    stalled: bool = False
    elapsed: float = 0.0  # seconds since it was asked for
    themes: list[str] = field(default_factory=list)  # the PDF's themes, in order
    options_changed: bool = False
    contributions_changed: int = 0  # came into the pack, or left it, since it was made

    @property
    def in_progress(self) -> bool:
        return self.state in SynthesisPackPdf.IN_PROGRESS and not self.stalled

    @property
    def out_of_date(self) -> bool:
        return self.options_changed or bool(self.contributions_changed)

    @property
    def refresh(self) -> int:
        """Seconds between the page's updates while it is in progress (0: it does not update)."""
        if not self.in_progress:
            return 0
        return 5 if self.estimate - self.elapsed < 60 else 15

    @property
    def seconds_per_entry(self) -> float:
        if self.pdf is not None and self.pdf.seconds_per_entry:
            return self.pdf.seconds_per_entry
        return DEFAULT_SECONDS_PER_ENTRY


def pdf_status(call: Call, at: datetime | None = None) -> PdfStatus:
    """The call's PDF as its page shows it: four queries at most."""
    at = at or timezone.now()
    pdf = SynthesisPackPdf.objects.filter(call=call).first()
    if pdf is None:
        _, entries = printed(call, options_for(call))
        return PdfStatus("none", None, entries, SynthesisPackPdf(entries=entries).estimate, False)
    pdf.call = call  # for pdf.options(), without loading it again
    names = dict(Theme.objects.filter(pk__in=pdf.theme_order).values_list("pk", "name"))
    status = PdfStatus(
        state=pdf.state,
        pdf=pdf,
        entries=pdf.entries,
        estimate=pdf.estimate,
        estimated_from_last=pdf.seconds_per_entry is not None,
        stalled=pdf.stalled(at),
        elapsed=(at - pdf.requested_at).total_seconds(),
        themes=[
            names.get(pk, NO_THEME) for pk in pdf.theme_order if pk in names or pk == NO_THEME_ID
        ],
    )
    if pdf.state == State.READY:
        options: SynthesisPack = options_for(call)
        status.options_changed = not pdf.same_options(options)
        now_printed, _ = printed(call, pdf.options())
        status.contributions_changed = len(now_printed ^ set(pdf.contributions))
    return status
