"""HTML blueprints: ``inbox`` (an officer's tasks), ``cases`` (lists, dossier page,
registration, attachments) and ``tasks`` (working a task). Views check, call one operation,
render; who may see what is decided by :mod:`server.scoping` alone."""
