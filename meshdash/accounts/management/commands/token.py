from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from meshdash.accounts.models import READ, WRITE, ApiToken


class Command(BaseCommand):
    help = "Create, list and revoke API tokens. A new token's secret is printed once."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user")
        create.add_argument("user")
        create.add_argument("--name", default="")
        create.add_argument("--write", action="store_true", help="may also change bookmarks")
        create.add_argument("--expires-days", type=int, help="refused after this many days")
        listing = sub.add_parser("list", help="list tokens (of one user)")
        listing.add_argument("user", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke tokens by id, or every token of --user")
        revoke.add_argument("ids", nargs="*", type=int)
        revoke.add_argument("--user", help="revoke every token of this user")

    def handle(self, *args, action, **options):
        getattr(self, action)(**options)

    def _user(self, username):
        try:
            return get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None

    def create(self, user, name, write, expires_days, **_):
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1")
        _, secret = ApiToken.issue(
            self._user(user),
            name,
            scope=WRITE if write else READ,
            expires=timezone.now() + timedelta(days=expires_days) if expires_days else None,
        )
        self.stdout.write(secret)

    def list(self, user=None, **_):
        tokens = ApiToken.objects.select_related("user")
        if user:
            tokens = tokens.filter(user=self._user(user))
        for t in tokens:
            used = t.last_used.isoformat() if t.last_used else "never"
            expires = t.expires.isoformat() if t.expires else "never"
            self.stdout.write(
                f"{t.pk}\t{t.user.get_username()}\t{t.hint}…\t{t.name}\t{t.scope}"
                f"\texpires {expires}\tused {used}"
            )

    def revoke(self, ids, user=None, **_):
        if not ids and not user:
            raise CommandError("give token ids or --user")
        tokens = ApiToken.objects.all()
        if ids:
            tokens = tokens.filter(pk__in=ids)
        if user:
            tokens = tokens.filter(user=self._user(user))
        deleted, _ = tokens.delete()
        if not deleted:
            raise CommandError("no such token")
        self.stdout.write(f"revoked {deleted} token(s)")
