from django.dispatch import Signal

# Sent once, when an account first enters needs_reauth (kwargs: account, reason).
account_needs_reauth = Signal()

# Sent after the transaction of a connect through Instagram Login has committed (kwargs: account_id).
# The inbox subscribes the account to its webhooks in the background and reads what it already has.
instagram_login_connected = Signal()
