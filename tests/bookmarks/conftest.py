from tests.accounts.people import (  # noqa: F401
    alice,
    bob,
    carol,
    fast_passwords,
    payments,
    search_team,
)
