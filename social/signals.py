from django.dispatch import Signal

# Sent once, when an account first enters needs_reauth (kwargs: account, reason).
account_needs_reauth = Signal()
