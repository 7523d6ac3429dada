"""Personal data as a public office handles it: legal basis, disclosures, access log, erasure."""
