"""The PAI notifier service."""
