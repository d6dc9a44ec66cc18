"""The hotline's code above storage: domain, jobs, web, cli and render rooms (see README)."""
