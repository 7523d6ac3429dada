"""What starts things on a laptop, in a demo or in tests: the embedded broker (tansu) and the
whole pipeline as local processes. No service imports this package."""
