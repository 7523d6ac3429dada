"""PAI services: eligibility, scheduler and notifier for Program Aktywizacja i Integracja."""
