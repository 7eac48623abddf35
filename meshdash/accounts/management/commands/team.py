from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from meshdash.accounts.teams import (
    MAX_TEAM_NAME,
    NAMESPACE_RE,
    label_selector_error,
    profile_of,
)


class Command(BaseCommand):
    help = "Manage teams: the Django groups that share bookmarks and own namespaces."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a team")
        create.add_argument("team")
        create.add_argument("--namespace", action="append", default=[], dest="namespaces")
        create.add_argument("--label", default="", help="label selector, e.g. team=payments")
        add = sub.add_parser("add", help="add users to a team")
        add.add_argument("team")
        add.add_argument("users", nargs="+")
        add.add_argument("--admin", action="store_true", help="also make them team admins")
        remove = sub.add_parser("remove", help="remove users from a team")
        remove.add_argument("team")
        remove.add_argument("users", nargs="+")
        own = sub.add_parser("own-namespace", help="a team owns these namespaces")
        own.add_argument("team")
        own.add_argument("namespaces", nargs="+")
        own.add_argument("--remove", action="store_true", help="give them up instead")
        label = sub.add_parser("label", help="set (or clear with '') the team's label selector")
        label.add_argument("team")
        label.add_argument("selector")
        delete = sub.add_parser("delete", help="delete a team")
        delete.add_argument("team")
        sub.add_parser("list", help="list teams")

    def handle(self, *args, action, **options):
        getattr(self, action.replace("-", "_"))(**options)

    def _team(self, name):
        team = Group.objects.filter(name=name).first()
        if team is None:
            raise CommandError(f"no team {name!r}")
        return team

    def _users(self, names):
        users = list(get_user_model()._default_manager.filter(username__in=names))
        missing = set(names) - {u.get_username() for u in users}
        if missing:
            raise CommandError(f"no user {', '.join(sorted(missing))}")
        return users

    def _check_namespaces(self, namespaces):
        bad = [ns for ns in namespaces if not NAMESPACE_RE.fullmatch(ns)]
        if bad:
            raise CommandError(f"not a namespace name: {', '.join(bad)}")

    def _check_label(self, selector):
        why = label_selector_error(selector)
        if why:
            raise CommandError(why)

    def create(self, team, namespaces, label, **_):
        if not team.strip() or len(team) > MAX_TEAM_NAME:
            raise CommandError("a team name is 1 to 150 characters")
        self._check_namespaces(namespaces)
        self._check_label(label)
        group, created = Group.objects.get_or_create(name=team)
        if not created:
            raise CommandError(f"team {team!r} exists already")
        profile = profile_of(group)
        profile.namespaces = sorted(set(namespaces))
        profile.label_selector = label
        profile.save()
        self.stdout.write(f"created team {team}")

    def add(self, team, users, admin, **_):
        group = self._team(team)
        members = self._users(users)
        group.user_set.add(*members)
        if admin:
            profile_of(group).admins.add(*members)
        self.stdout.write(f"added {', '.join(users)} to {team}")

    def remove(self, team, users, **_):
        group = self._team(team)
        members = self._users(users)
        group.user_set.remove(*members)
        profile_of(group).admins.remove(*members)
        self.stdout.write(f"removed {', '.join(users)} from {team}")

    def own_namespace(self, team, namespaces, remove, **_):
        self._check_namespaces(namespaces)
        profile = profile_of(self._team(team))
        owned = set(profile.namespaces)
        owned = owned - set(namespaces) if remove else owned | set(namespaces)
        profile.namespaces = sorted(owned)
        profile.save(update_fields=["namespaces"])
        self.stdout.write(f"{team} owns: {', '.join(profile.namespaces) or 'no namespace'}")

    def label(self, team, selector, **_):
        self._check_label(selector)
        profile = profile_of(self._team(team))
        profile.label_selector = selector
        profile.save(update_fields=["label_selector"])
        self.stdout.write(f"{team} label selector: {selector or 'none'}")

    def delete(self, team, **_):
        self._team(team).delete()
        self.stdout.write(f"deleted team {team}")

    def list(self, **_):
        for group in Group.objects.order_by("name").prefetch_related("user_set"):
            profile = profile_of(group)
            members = ", ".join(sorted(u.get_username() for u in group.user_set.all()))
            namespaces = ",".join(profile.namespaces) or "-"
            self.stdout.write(
                f"{group.name}\tnamespaces={namespaces}\tlabel={profile.label_selector or '-'}"
                f"\tmembers={members or '-'}"
            )
