"""Fill a call with realistic submitted submissions, for demos, load tests and benchmarks.

python manage.py seed_demo --submissions 100000 [--call SLUG] [--seed 1]
"""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from submissions.journey.forms import orcid_check_digit
from submissions.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Call, Submission, Theme

DEFAULT_CALL = "what-works-social-media"

# fmt: off
# Names from the places contributors to a UK engagement call come from, in their own scripts.
FIRST_NAMES = [
    "Amelia", "Oliver", "Siân", "Rhys", "Aoife", "Callum", "Priya", "Arjun", "Fatima", "Yusuf",
    "Chloé", "Mateus", "Zofia", "Kwame", "Adaeze", "Mei", "Hiroshi", "Ingrid", "Søren", "Lucía",
    "Nguyễn Thị", "Olamide", "Eilidh", "Tomasz", "Grace", "Daniel", "Hannah", "Mohammed", "Ruth",
    "محمد", "فاطمة", "张伟", "李娜", "Дмитрий", "Ελένη", "יעל", "अनन्या",
]
SURNAMES = [
    "Smith", "Jones", "Williams", "Davies", "O'Brien", "MacLeod", "Patel", "Khan", "Begum",
    "Okafor", "Mensah", "Kowalska", "Nowak", "Silva", "García", "Müller", "Ødegaard", "Tanaka",
    "Chen", "Wang", "Evans", "Thomas", "Roberts", "Hughes", "Ahmed", "Ali", "Taylor", "Brown",
    "Nic Giolla Phádraig", "Lloyd-Jones", "al-Hassan", "حداد", "王", "Иванова", "Παπαδοπούλου",
]
ORGANISATIONS = [
    ("University of Bristol", "bristol"),
    ("UWE Bristol", "uwe"),
    ("University of Edinburgh", "ed"),
    ("Cardiff University", "cardiff"),
    ("Queen's University Belfast", "qub"),
    ("University College London", "ucl"),
    ("The Open University", "open"),
    ("University of Manchester", "manchester"),
    ("Science Museum Group", "sciencemuseum"),
    ("Wellcome Collection", "wellcome"),
    ("British Science Association", "bsa"),
    ("Manchester Museum", "museum"),
    ("Royal Society of Chemistry", "rsc"),
    ("Natural History Museum", "nhm"),
    ("National Co-ordinating Centre for Public Engagement", "nccpe"),
    ("Citizen Science Ireland", "citsci"),
    ("Freelance science communicator", "freelance"),
    ("Prifysgol Bangor University", "bangor"),
]
ROLES = [
    "Lecturer in Sociology", "Senior Lecturer, Public Health", "Public Engagement Manager",
    "Research Fellow", "PhD researcher", "Professor of Digital Media", "Impact Officer",
    "Communications Officer", "Museum Learning Officer", "Science communicator",
    "Head of Public Engagement", "Research Associate", "Postdoctoral researcher",
    "Knowledge Exchange Manager", "Digital Engagement Lead",
]
THEMES = [
    "Twitter and microblogging", "Video and live streaming", "Podcasts", "Blogging",
    "Training and support", "Evaluation and metrics", "Online harassment", "Citizen science",
    "Institutional policy",
]
# fmt: on
REVIEW_STATUSES = (
    [Submission.ReviewStatus.NEW] * 12
    + [Submission.ReviewStatus.IN_REVIEW] * 4
    + [Submission.ReviewStatus.SHORTLISTED] * 2
    + [Submission.ReviewStatus.INCLUDED] * 1
    + [Submission.ReviewStatus.NOT_INCLUDED] * 1
)
REVIEWER_NOTES = [
    "Strong example; ask for permission to quote the evaluation figures.",
    "Overlaps with the Twitter chat submission from the same team; synthesise together.",
    "Good on challenges; no evidence of impact yet. Follow up in six months.",
    "Tool is behind a login; check whether a public version exists.",
    "Include in the 'getting started' section of the toolkit.",
    "Out of scope: about marketing rather than engagement.",
]
CREDITS = (
    [Submission.Credit.NAME_AND_ORGANISATION] * 6
    + [Submission.Credit.ORGANISATION_ONLY] * 2
    + [Submission.Credit.NONE] * 1
)

SENTENCES = [
    "We ran a weekly Twitter chat with patients and researchers for two years.",
    "The conversations that worked best started with a question rather than a finding.",
    "Our department gave each early career researcher two hours a week for online engagement.",
    "We found that live video from the field drew people who never come to our public lectures.",
    "Replying to every comment in the first hour mattered more than the time of posting.",
    "Short threads with one image each were shared far more than links to papers.",
    "We trained twelve researchers in a half-day workshop and followed up after three months.",
    "Most of them were still posting, but few had moved beyond announcing publications.",
    "People asked us to explain uncertainty, not just results, and that changed our approach.",
    "A shared calendar across the research group stopped the account from going quiet.",
    "We measured engagement by replies and questions, not by followers or impressions.",
    "Hostile replies were rare, but one bad week put two colleagues off for months.",
    "A simple escalation plan, agreed with the press office, gave people the confidence to try.",
    "Co-producing the posts with a community group made them read less like press releases.",
    "Instagram worked for the museum audience; Twitter worked for policy makers and journalists.",
    "We asked followers to classify photographs, and over four thousand people took part.",
    "The hardest part was persuading senior colleagues that this counts as research impact.",
    "Our guidance now covers conversation, not only dissemination and networking.",
    "We recorded a short podcast with each participant and shared the clips on social media.",
    "Evaluation used a mix of platform analytics, a short survey and follow-up interviews.",
    "Several participants told us they felt heard for the first time by a university.",
    "We would recommend starting small, with one platform and one clear audience in mind.",
    "Students moderated the account in the evenings, which kept replies quick and friendly.",
    "Translation into Welsh and Polish doubled the reach in the communities we worked with.",
    "The toolkit should include examples of failure as well as success.",
    "We have published our moderation policy and a template risk assessment under CC BY.",
    "Time is the main barrier: none of this appears in workload models.",
    "A short guide with screenshots was used far more than the long policy document.",
]
BULLETS = [
    "- agree who replies, and how fast, before the first post",
    "- keep a log of questions from the public; they make good future posts",
    "- mute rather than block unless there is a threat",
    "- ask the press office for help with escalation",
    "- share work in progress, not just finished papers",
    "- evaluate with replies and conversations, not follower counts",
]
LINK_PATHS = [
    "blog/what-we-learned-from-a-year-of-twitter-chats",
    "research/social-media-engagement-evaluation.pdf",
    "toolkit/online-engagement-guide",
    "news/live-streaming-from-the-field",
    "podcast/episode-12-talking-with-the-public",
    "policy/social-media-moderation",
]


def random_orcid(rng: random.Random) -> str:
    digits = "000" + "".join(rng.choices("0123456789", k=12))
    full = digits + orcid_check_digit(digits)
    return "-".join(full[i : i + 4] for i in range(0, 16, 4))


def random_answer(rng: random.Random, target_length: int) -> str:
    """Paragraphs of plausible prose, sometimes with a bulleted list, near target_length."""
    paragraphs: list[str] = []
    length = 0
    while length < target_length:
        if paragraphs and rng.random() < 0.15:
            paragraph = "Our advice:\n" + "\n".join(rng.sample(BULLETS, rng.randint(2, 4)))
        else:
            paragraph = " ".join(rng.choices(SENTENCES, k=rng.randint(2, 5)))
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(paragraphs)


class Command(BaseCommand):
    help = "Create realistic submitted submissions for a call (demo and benchmark data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--submissions", type=int, default=100, metavar="N")
        parser.add_argument("--call", default=DEFAULT_CALL, metavar="SLUG")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatable data."
        )
        parser.add_argument(
            "--included",
            type=float,
            default=None,
            metavar="SHARE",
            help="The share (0 to 1) of submissions included in the toolkit; by default one "
            "in twenty, with the other review statuses in proportion.",
        )
        parser.add_argument(
            "--no-analyse",
            action="store_true",
            help="Leave the planner's statistics as they were, as a burst of submissions does "
            "(bench/bench_export.py --straight-after-load).",
        )

    def handle(
        self,
        *args,
        submissions: int,
        call: str,
        batch_size: int,
        seed,
        no_analyse,
        included=None,
        **options,
    ):
        if submissions < 1 or batch_size < 1:
            raise CommandError("--submissions and --batch-size must be at least 1.")
        if included is not None and not 0 <= included <= 1:
            raise CommandError("--included is a share between 0 and 1.")
        self.included = included
        try:
            the_call = Call.objects.get(slug=call)
        except Call.DoesNotExist:
            raise CommandError(f"No call with the slug {call!r}.") from None

        self.rng = random.Random(seed)
        self.call = the_call
        self.question_ids = [str(pk) for pk in the_call.questions.values_list("pk", flat=True)]
        self.themes = self.demo_themes()
        self.references = set(
            Submission.objects.exclude(reference=None).values_list("reference", flat=True)
        )
        self.start, self.on_time_end, self.late_end = self.time_window(timezone.now())

        made = 0
        report_every = max(batch_size, submissions // 10)
        while made < submissions:
            size = min(batch_size, submissions - made)
            self.insert([self.build(made + i) for i in range(size)])
            previous, made = made, made + size
            if made // report_every > previous // report_every or made == submissions:
                self.stdout.write(f"{made:,}/{submissions:,} submissions")
        if not no_analyse:
            self.analyse()
        self.stdout.write(self.style.SUCCESS(f"Seeded {made:,} submissions to {the_call.slug}."))

    def insert(self, batch: list[Submission]) -> None:
        """Insert one batch and its themes in a transaction.

        On PostgreSQL the rows go in with COPY. The search trigger and its GIN index cost about
        half a millisecond a row whichever way the rows arrive; COPY takes a third of the Python
        time of bulk_create's 60,000-parameter INSERTs, so one connection with no threads keeps
        up (see the README). COPY returns no ids, so the batch first takes its ids from the
        table's sequence, for the theme rows.
        """
        Through = Submission.themes.through
        with transaction.atomic():
            if connection.vendor == "postgresql":
                self.copy_in(batch)
            else:
                Submission.objects.bulk_create(batch)
            Through.objects.bulk_create(
                Through(submission_id=sub.pk, theme_id=theme.pk)
                for sub in batch
                for theme in sub._demo_themes  # type: ignore[attr-defined]  # see build()
            )
        # With DEBUG on, Django keeps every query's SQL: megabytes per batch here.
        if settings.DEBUG:
            reset_queries()

    def analyse(self) -> None:
        """Fresh planner statistics for the tables just filled, as autovacuum gives them later.

        A plan made from the table's size before the load can be far off: an export right after
        seeding 100,000 took 39 times as long as after ANALYZE (docs/benchmarks.md).
        """
        if connection.vendor != "postgresql":
            return
        tables = [Submission._meta.db_table, Submission.themes.through._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")

    def copy_in(self, batch: list[Submission]) -> None:
        meta = Submission._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *fields])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(batch)],
            )
            for submission, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                submission.pk = pk
            table = connection.ops.quote_name(meta.db_table)
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for submission in batch:
                    # pre_save fills auto_now fields, as bulk_create would.
                    copy.write_row(
                        [submission.pk]
                        + [
                            f.get_db_prep_save(f.pre_save(submission, True), connection)
                            for f in fields
                        ]
                    )

    def demo_themes(self) -> list[Theme]:
        Theme.objects.bulk_create([Theme(name=name) for name in THEMES], ignore_conflicts=True)
        return list(Theme.objects.filter(name__in=THEMES))

    def time_window(self, now: datetime) -> tuple[datetime, datetime, datetime]:
        """When on-time and (if the call accepts them) late submissions can have arrived."""
        start = self.call.opens_at
        on_time_end = min(self.call.closed_from, now)
        late_end = on_time_end
        if self.call.late_policy == Call.LatePolicy.ACCEPT_LATE and self.call.closed_from < now:
            late_end = min(self.call.closed_from + timedelta(days=14), now)
        return start, on_time_end, late_end

    def random_time(self, start: datetime, end: datetime) -> datetime:
        seconds = max((end - start).total_seconds(), 1)
        return start + timedelta(seconds=self.rng.uniform(0, seconds - 1))

    def new_reference(self) -> str:
        while True:
            reference = "".join(self.rng.choices(REFERENCE_ALPHABET, k=REFERENCE_LENGTH))
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def review_status(self) -> str:
        """One in twenty included, or the share --included asked for (the rest in proportion)."""
        if self.included is None:
            return self.rng.choice(REVIEW_STATUSES)
        if self.rng.random() < self.included:
            return Submission.ReviewStatus.INCLUDED
        return self.rng.choice(
            [s for s in REVIEW_STATUSES if s != Submission.ReviewStatus.INCLUDED]
        )

    def build(self, n: int) -> Submission:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        organisation, domain = rng.choice(ORGANISATIONS)
        # One in twenty arrives in the fortnight after the deadline, where the call allows it.
        if self.late_end > self.on_time_end and rng.random() < 0.05:
            submitted_at = self.random_time(self.call.closed_from, self.late_end)
        else:
            submitted_at = self.random_time(self.start, self.on_time_end)
        review_status = self.review_status()
        # About 3 KB of answers in all, unevenly spread as people write more on some questions.
        weights = [rng.uniform(0.5, 1.5) for _ in self.question_ids]
        answers = {
            qid: random_answer(rng, int(3000 * w / sum(weights)))
            for qid, w in zip(self.question_ids, weights, strict=True)
        }
        site = f"https://www.{domain}.example.org"
        submission = Submission(
            call=self.call,
            state=Submission.State.SUBMITTED,
            reference=self.new_reference(),
            submitted_at=submitted_at,
            is_late=not self.call.is_on_time(submitted_at),
            consent_licence_id=self.call.licence_id,
            consent_licence_version=self.call.licence_version,
            consent_wording_version=self.call.consent_version,
            consent_wording_sha256=self.call.consent_hash,
            # Consent is the second page: minutes before submitting, never before the call opened.
            consent_given_at=max(
                submitted_at - timedelta(minutes=rng.randint(3, 90)), self.call.opens_at
            ),
            name=f"{first} {last}",
            email=f"contributor{n}.{rng.randrange(10**6)}@{domain}.example.org",
            role=rng.choice(ROLES),
            organisation=organisation,
            orcid=random_orcid(rng) if rng.random() < 0.4 else "",
            website=f"{site}/people/{n}" if rng.random() < 0.3 else "",
            credit_preference=rng.choice(CREDITS),
            answers=answers,
            links=[f"{site}/{path}" for path in rng.sample(LINK_PATHS, rng.randint(0, 3))],
            review_status=review_status,
            reviewer_notes=(
                rng.choice(REVIEWER_NOTES) if review_status != Submission.ReviewStatus.NEW else ""
            ),
        )
        # The themes travel with the unsaved row to insert(); a Submission has no such field.
        submission._demo_themes = (  # type: ignore[attr-defined]
            rng.sample(self.themes, rng.randint(1, 3)) if rng.random() < 0.4 else []
        )
        return submission
