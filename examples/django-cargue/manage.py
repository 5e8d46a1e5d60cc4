#!/usr/bin/env python
"""The load-out check sync (seed 003) on relevo instead of Django Channels."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cargue_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
