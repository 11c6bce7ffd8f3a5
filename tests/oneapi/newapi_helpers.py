"""A New-API-mode emulator that has been set up, and raw admin access to it."""
from dataclasses import dataclass

import httpx

ROOT_PASSWORD = "root-pass-123"


@dataclass
class Admin:
    http: httpx.Client  # authenticated with the access token and New-Api-User
    token: str
    user_id: int


def set_up(url: str, password: str = ROOT_PASSWORD) -> None:
    answer = httpx.post(url + "/api/setup", json={
        "username": "root", "password": password, "confirmPassword": password,
        "SelfUseModeEnabled": False, "DemoSiteEnabled": False}, trust_env=False).json()
    assert answer["success"], answer


def admin(url: str, password: str = ROOT_PASSWORD) -> Admin:
    with httpx.Client(base_url=url, trust_env=False) as web:
        user = web.post("/api/user/login", json={"username": "root", "password": password}
                        ).json()["data"]
        token = web.get("/api/user/token", headers={"New-Api-User": str(user["id"])}
                        ).json()["data"]
    http = httpx.Client(base_url=url, trust_env=False, follow_redirects=False,
                        headers={"Authorization": f"Bearer {token}",
                                 "New-Api-User": str(user["id"])})
    return Admin(http, token, user["id"])


def add_channel(http: httpx.Client, **fields) -> int:
    channel = {"name": "ch", "type": 1, "key": "upkey", "models": "m1",
               "base_url": "http://127.0.0.1:9"}
    channel.update(fields)
    answer = http.post("/api/channel/", json={"mode": "single", "channel": channel}).json()
    assert answer == {"success": True, "message": ""}, answer
    found = http.get("/api/channel/search", params={"keyword": channel["name"]}).json()
    return max(c["id"] for c in found["data"]["items"] if c["name"] == channel["name"])
