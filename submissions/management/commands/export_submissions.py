"""Export submitted submissions to CSV, as the admin's export does.

python manage.py export_submissions [--call SLUG] [--status S] [--since DATE] -o FILE
"""

import getpass
import os
import sys
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from submissions.exports.writer import SubmissionCsv
from submissions.models import Call, ExportRecord, Submission


def parse_since(value: str) -> datetime:
    """A date (from its start, UK time) or an ISO 8601 date and time."""
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if day:
        moment = datetime.combine(day, time.min)
    if moment is None:
        raise CommandError(f"--since must be a date like 2018-03-01, not {value!r}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment


class Command(BaseCommand):
    help = "Export submitted submissions to a CSV file (UTF-8 with BOM, CRLF, Excel-safe)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--call", metavar="SLUG", help="Only this call's submissions.")
        parser.add_argument(
            "--status",
            choices=Submission.ReviewStatus.values,
            help="Only submissions with this review status.",
        )
        parser.add_argument(
            "--since",
            metavar="DATE",
            help="Only submissions made on or after this date (UK time) or ISO date and time.",
        )
        parser.add_argument(
            "-o", "--output", required=True, metavar="FILE", help="The CSV file; - for stdout."
        )

    def handle(self, *args, call, status, since, output, **options) -> None:
        submissions = Submission.objects.all()
        filters: dict[str, str] = {}
        if call:
            if not Call.objects.filter(slug=call).exists():
                raise CommandError(f"No call with the slug {call!r}.")
            submissions = submissions.filter(call__slug=call)
            filters["call"] = call
        if status:
            submissions = submissions.filter(review_status=status)
            filters["status"] = status
        if since:
            moment = parse_since(since)
            submissions = submissions.filter(submitted_at__gte=moment)
            filters["since"] = moment.isoformat()

        export = SubmissionCsv(submissions)
        record = ExportRecord.objects.create(
            username=getpass.getuser(), source=ExportRecord.Source.COMMAND, filters=filters
        )
        if output == "-":
            write_all(export, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            # Written beside the target and renamed at the end: never a half file under its name.
            partial = f"{output}.part"
            try:
                with open(partial, "wb") as file:
                    write_all(export, file)
                os.replace(partial, output)
            except BaseException:
                if os.path.exists(partial):
                    os.remove(partial)
                raise
        record.complete(export.row_count)
        # On stderr, so that `-o -` gives nothing but the file on stdout.
        self.stderr.write(
            f"Exported {export.row_count:,} submissions to {output}.", style_func=self.style.SUCCESS
        )


def write_all(export: SubmissionCsv, file) -> None:
    for chunk in export:
        file.write(chunk)
