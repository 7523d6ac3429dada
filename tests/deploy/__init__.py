"""Checks of deploy/ (Kustomize overlays, Strimzi, monitoring) and docker-compose.yml."""
