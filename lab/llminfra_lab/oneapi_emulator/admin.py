"""Admin route tables, one per flavour: (method, path, handler, auth) with gin's exact
slash forms."""
from . import channels, newapi, relay_test, tokens, users

_COMMON = [
    ("GET", "/api/status", users.status, None),
    ("POST", "/api/user/login", users.login, None),
    ("GET", "/api/user/logout", users.logout, None),
    ("GET", "/api/user/self", users.get_self, "user"),
    ("PUT", "/api/user/self", users.update_self, "user"),
    ("GET", "/api/user/token", users.rotate_access_token, "user"),
    ("GET", "/api/user/available_models", users.available_models, "user"),
    ("GET", "/api/option/", users.get_options, "root"),
    ("PUT", "/api/option/", users.update_option, "root"),
    ("GET", "/api/group/", users.groups, "admin"),
    ("GET", "/api/channel/models", channels.all_models, "admin"),
    ("GET", "/api/channel/:id", channels.get_channel, "admin"),
    ("DELETE", "/api/channel/disabled", channels.delete_disabled, "admin"),
    ("DELETE", "/api/channel/:id", channels.delete_channel, "admin"),
    ("GET", "/api/channel/test/:id", relay_test.test_channel, "admin"),
]

ROUTES = _COMMON + [
    ("GET", "/api/channel/", channels.list_channels, "admin"),
    ("GET", "/api/channel/search", channels.search_channels, "admin"),
    ("POST", "/api/channel/", channels.add_channel, "admin"),
    ("PUT", "/api/channel/", channels.update_channel, "admin"),
    ("GET", "/api/token/", tokens.list_tokens, "user"),
    ("GET", "/api/token/search", tokens.search_tokens, "user"),
    ("GET", "/api/token/:id", tokens.get_token, "user"),
    ("POST", "/api/token/", tokens.add_token, "user"),
    ("PUT", "/api/token/", tokens.update_token, "user"),
    ("DELETE", "/api/token/:id", tokens.delete_token, "user"),
]

NEWAPI_ROUTES = _COMMON + [
    ("GET", "/api/setup", newapi.get_setup, None),
    ("POST", "/api/setup", newapi.post_setup, None),
    ("GET", "/api/channel/", newapi.list_channels, "admin"),
    ("GET", "/api/channel/search", newapi.search_channels, "admin"),
    ("POST", "/api/channel/", newapi.add_channel, "admin"),
    ("PUT", "/api/channel/", newapi.update_channel, "admin"),
    ("GET", "/api/token/", newapi.list_tokens, "user"),
    ("GET", "/api/token/search", newapi.search_tokens, "user", "search"),
    ("GET", "/api/token/:id", newapi.get_token, "user"),
    ("POST", "/api/token/:id/key", newapi.token_key, "user", "critical"),
    ("POST", "/api/token/batch/keys", newapi.token_keys, "user", "critical"),
    ("POST", "/api/token/", newapi.add_token, "user"),
    ("PUT", "/api/token/", newapi.update_token, "user"),
    ("DELETE", "/api/token/:id", newapi.delete_token, "user"),
]
