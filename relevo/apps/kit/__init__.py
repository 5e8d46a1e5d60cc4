"""The app kit: the plumbing every app under ``relevo/apps`` takes from here
instead of writing it again (STYLE.md, rule 16)::

    errors     relevo's errors with a Spanish ``mensaje`` for the screens;
               ``with_extra``, the one place an error gets body fields
    http       endpoints (the caller → a handler, errors → their body), the
               body reader, ids from a URL, acting for a checked user
    pages      /<app>/<page> → an HTML file, /<app>/static/…, /<app>/login
    demo       the development login of ``relevo demo``
    options    [app.<name>] → the app's options dataclass
    ratelimit  a token bucket per key (a kiosk's address)

The pages' half lives in the UI kit: ``/static/ui/session.js`` (the token,
the API calls, ``ApiError``) and ``/static/ui/login.html`` (one login page,
served as ``/<app>/login``). ``docs/apps/README.md`` says where a new app's
files go.
"""
