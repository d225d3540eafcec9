from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD, DemoSeeder
from programmes import freshness


class Command(BaseCommand):
    help = "Create or update the fictional demo organisations and accounts (safe to run twice)."

    def handle(self, *args, **options):
        with freshness.all_at_once():
            accounts = DemoSeeder().run()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(accounts)} memberships."))
        self.stdout.write(f"Every demo account's password is {DEMO_PASSWORD}\n")
        shown = [
            a
            for a in accounts
            if not a.email.startswith("mentee") or a.email.startswith("mentee1.")
        ]
        for account in shown:
            self.stdout.write(
                f"  {account.email:<36} {account.role:<20} /o/{account.organisation}/"
            )
        hidden = len(accounts) - len(shown)
        if hidden:
            self.stdout.write(f"  … and {hidden} more mentee accounts (mentee2, mentee3, …).")
