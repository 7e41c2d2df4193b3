"""The web UI's pages, grouped by subject; each module has install(app, web).

A new group of pages is a new module here, added to GROUPS. Every route declares
roles=... (see callbox_web.plugins); a route shown in the navigation also declares
nav="<label>".
"""
from callbox_web.routes import (account, agent, config, dashboard, diagnostics, ivr, records, reports, supervise,
                                system, wallboard)

GROUPS = (account, dashboard, wallboard, agent, records, reports, supervise, config, ivr, diagnostics, system)


def install_all(app, web):
    """Add every group's routes to app."""
    for group in GROUPS:
        group.install(app, web)
