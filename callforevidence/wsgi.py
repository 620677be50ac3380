"""
WSGI config for callforevidence project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

from submissions.common.checks import require_strong_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callforevidence.settings")

application = get_wsgi_application()
require_strong_secret_key()  # the site itself refuses to start with a short key
