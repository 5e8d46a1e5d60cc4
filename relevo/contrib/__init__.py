"""Integrations of relevo into other frameworks. Each talks to relevo only
through the Python SDK (``relevo.client``) and the protocol's error codes,
never through the server's internals, so it works against any relevo
server the backend can reach over HTTP."""
