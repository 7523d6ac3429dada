"""The PAI eligibility service."""
