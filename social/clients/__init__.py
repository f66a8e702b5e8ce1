"""The only code that speaks HTTP to a platform. Imports no other UniPulse app."""
