"""Go-style JSON binding of Channel/Token bodies (encoding/json semantics).

A value of the wrong JSON type fails the whole bind with Go's error text; JSON
``null`` for a pointer field means "absent".
"""

INT, UINT, FLOAT, STR, BOOL = "int", "uint", "float64", "string", "bool"

# name -> (go type, is_pointer)
CHANNEL_FIELDS = {
    "id": (INT, False), "type": (INT, False), "key": (STR, False), "status": (INT, False),
    "name": (STR, False), "weight": (UINT, True), "created_time": (INT, False),
    "test_time": (INT, False), "response_time": (INT, False), "base_url": (STR, True),
    "other": (STR, True), "balance": (FLOAT, False), "balance_updated_time": (INT, False),
    "models": (STR, False), "group": (STR, False), "used_quota": (INT, False),
    "model_mapping": (STR, True), "priority": (INT, True), "config": (STR, False),
    "system_prompt": (STR, True),
}
TOKEN_FIELDS = {
    "id": (INT, False), "user_id": (INT, False), "key": (STR, False), "status": (INT, False),
    "name": (STR, False), "created_time": (INT, False), "accessed_time": (INT, False),
    "expired_time": (INT, False), "remain_quota": (INT, False),
    "unlimited_quota": (BOOL, False), "used_quota": (INT, False), "models": (STR, True),
    "subnet": (STR, True),
}
# New-API (docs/gateway-contract.md §10.4/§10.6): no config/system_prompt; more pointer fields; token limits.
NEWAPI_CHANNEL_FIELDS = {
    name: spec for name, spec in CHANNEL_FIELDS.items() if name not in ("config", "system_prompt")
}
NEWAPI_CHANNEL_FIELDS.update({
    "openai_organization": (STR, True), "test_model": (STR, True),
    "status_code_mapping": (STR, True), "auto_ban": (INT, True), "other_info": (STR, False),
    "tag": (STR, True), "setting": (STR, True), "param_override": (STR, True),
    "header_override": (STR, True), "remark": (STR, True), "settings": (STR, False),
})
NEWAPI_TOKEN_FIELDS = {
    name: spec for name, spec in TOKEN_FIELDS.items() if name not in ("models", "subnet")
}
NEWAPI_TOKEN_FIELDS.update({
    "model_limits_enabled": (BOOL, False), "model_limits": (STR, False),
    "allow_ips": (STR, True), "group": (STR, False), "cross_group_retry": (BOOL, False),
})
USER_FIELDS = {"username": (STR, False), "password": (STR, False),
               "display_name": (STR, False)}
OPTION_FIELDS = {"key": (STR, False), "value": (STR, False)}


class BindError(Exception):
    pass


def _json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number " + str(value)
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _ok(gotype, value):
    if gotype == STR:
        return isinstance(value, str)
    if gotype == BOOL:
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if gotype == FLOAT:
        return True
    if isinstance(value, float) and not value.is_integer():
        return False
    return gotype != UINT or value >= 0


def bind(body, fields, struct):
    """Return {field: value} for known fields present (pointer nulls dropped).

    Non-pointer nulls are ignored too, as Go leaves the zero value in place.
    """
    if not isinstance(body, dict):
        raise BindError(f"json: cannot unmarshal {_json_kind(body).split()[0]} "
                        f"into Go value of type model.{struct}")
    out = {}
    for name, value in body.items():
        if name not in fields or value is None:
            continue
        gotype, _ = fields[name]
        if not _ok(gotype, value):
            raise BindError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                            f"{struct}.{name} of type {gotype if gotype != INT else 'int'}")
        out[name] = int(value) if gotype in (INT, UINT) else value
    return out


def zero(gotype):
    return {STR: "", BOOL: False, FLOAT: 0.0}.get(gotype, 0)
