from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from analytics.models import SyncRun
from conversations.models import Conversation
from publishing.models import PostMedia
from sandbox import demo
from unipulse.broker import is_embedded, start_embedded_worker

USERNAME = "demo"


class Command(BaseCommand):
    help = ("Sandbox only: a demo login with sandbox Facebook, Instagram and TikTok accounts, one post of each "
            "content type, an analytics sync and a comment and a DM in the inbox. Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-unipulse", help="The demo login's password.")
        parser.add_argument("--timeout", type=int, default=90, help="Seconds to wait for the posts to publish.")

    def handle(self, *args, password: str, timeout: int, **options):
        if not settings.SOCIAL_SANDBOX:
            raise CommandError("The demo runs on the built-in sandbox (SOCIAL_SANDBOX), which is off here.")
        base = settings.PUBLIC_BASE_URL
        server = None
        if not demo.server_answers(base):
            if not is_embedded():
                raise CommandError(f"Nothing answers at {base}: start `make run` first (it runs the worker too).")
            settings.PUBLISH_POLL_DELAY_SECONDS = 2  # our own server: the sandbox finishes in seconds
            server = demo.start_server(settings.PORT)
            start_embedded_worker()
        elif not demo.sandbox_served(base):
            raise CommandError(f"The server at {base} runs with the sandbox off: restart it with SOCIAL_SANDBOX=true "
                               "(e.g. `SOCIAL_SANDBOX=true make run`), or stop it and the demo serves itself.")
        user = self._login(password)
        try:
            self._run(demo.Api(base, Token.objects.get_or_create(user=user)[0].key), timeout)
        except demo.DemoError as error:
            raise CommandError(f"demo: {error}") from None
        finally:
            if server is not None:
                server.shutdown()
        self.stdout.write(f"\nDemo ready. Sign in at {base}/admin/ as {USERNAME} / {password}; "
                          f"API docs at {base}/api/v1/docs/ (Authorization: Token {Token.objects.get(user=user).key}).")

    def _earlier_upload(self, kind: str) -> str:
        """The sample a previous run uploaded, so its posts' bodies (and Idempotency-Keys) match again."""
        media = PostMedia.objects.filter(post__idempotency_key=f"demo-facebook-{kind}",
                                         post__created_by__username=USERNAME).first()
        return media.url if media else ""

    def _login(self, password: str):
        user, created = get_user_model().objects.get_or_create(username=USERNAME, defaults={"email": "demo@example.com"})
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        return user

    def _run(self, api, timeout: int) -> None:
        ids = demo.connect(api, "facebook") + demo.connect(api, "tiktok")
        accounts = {a["platform"]: a["id"] for a in api("GET", "/api/v1/accounts/?page_size=100").json()["results"]
                    if a["id"] in ids and a["status"] == "active"}
        missing = {"facebook", "instagram", "tiktok"} - set(accounts)
        if missing:
            raise demo.DemoError(f"no active sandbox account for {', '.join(sorted(missing))}")
        self.stdout.write(f"Connected: {', '.join(f'{p} #{pk}' for p, pk in sorted(accounts.items()))}")
        photo, clip = self._earlier_upload("photo") or demo.upload(api, "photo.jpg"), \
            self._earlier_upload("video") or demo.upload(api, "clip.mp4")
        posts = []
        for key, body in demo.demo_posts(accounts, photo, clip):
            created = api("POST", "/api/v1/posts/", json=body, headers={"Idempotency-Key": key})
            posts.append(created.json()["id"])  # 200 on a second run: the same post, nothing queued again
        statuses = demo.wait_published(api, posts, timeout)
        published = sum(s == "published" for targets in statuses.values() for s in targets)
        self.stdout.write(f"Published {published} of {sum(len(t) for t in statuses.values())} targets "
                          f"({len(posts)} posts, one of each content type).")
        if published < len(posts):
            unfinished = {pk: t for pk, t in statuses.items() if any(s != "published" for s in t)}
            raise demo.DemoError(f"not every post published within {timeout} s: {unfinished}")
        call_command("sync_analytics", "--platform", "facebook", stdout=self.stdout, stderr=self.stderr)
        call_command("sync_analytics", "--platform", "instagram", stdout=self.stdout, stderr=self.stderr)
        call_command("sync_analytics", "--platform", "tiktok", stdout=self.stdout, stderr=self.stderr)
        synced = demo.wait_for(lambda: SyncRun.objects.filter(account_id__in=accounts.values(), status=SyncRun.Status.DONE)
                               .values("account_id").distinct().count() == len(accounts), timeout=60)
        if not synced:
            raise demo.DemoError("the analytics sync did not finish within 60 s")
        if not Conversation.objects.filter(account_id__in=accounts.values()).exists():
            call_command("sandbox_activity", "--comments", "1", "--dms", "1", stdout=self.stdout, stderr=self.stderr)
        kinds = demo.wait_for(lambda: {c["kind"] for c in api("GET", "/api/v1/conversations/?page_size=100")
                                       .json()["results"]} >= {"comment", "dm"}, timeout=60)
        if not kinds:
            raise demo.DemoError("no comment and DM reached the inbox within 60 s")
        self.stdout.write(f"Analytics synced; inbox: {api('GET', '/api/v1/conversations/').json()['count']} "
                          "conversations (comments and DMs).")
