"""The PAI scheduler service."""
