"""A client of protoprimer: a package its venv installs."""
