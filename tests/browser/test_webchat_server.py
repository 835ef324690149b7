"""The web chat's server side, without a browser: routes, headers, loopback only, no HTML sinks."""

from __future__ import annotations

import re

import httpx

from bot.sandbox.webchat import STATIC

DANGEROUS_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")


async def test_the_page_and_its_files_are_served_with_a_strict_policy(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/chat")
        assert page.status_code == 200 and "SANDBOX — demo data" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        script = await http.get("/chat/app.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        for path in ("/chat/..%2Fserver.py", "/chat/nothing.js", "/chat/%2e%2e/demo.py"):
            assert (await http.get(path)).status_code == 404, path


async def test_browsers_at_the_root_are_sent_to_the_chat_and_programs_get_json(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        browser = await http.get("/", headers={"Accept": "text/html"})
        assert browser.status_code == 302 and browser.headers["location"] == "/chat"
        program = (await http.get("/")).json()
        assert program["result"]["web_chat"] == "/chat"


async def test_other_host_names_are_refused_against_dns_rebinding(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/chat", "/sandbox/api/users", "/"):
            refused = await http.get(path, headers={"Host": "attacker.example:8081"})
            assert refused.status_code == 403, path
        assert (await http.get("/sandbox/api/users", headers={"Host": "localhost"})).is_success


async def test_the_demo_routes_without_a_demo_world(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/sandbox/api/demo")).json()["result"]["status"] == "none"
        reset = await http.post("/sandbox/api/demo/reset")
        assert reset.status_code == 501 and "python -m bot" in reset.json()["error"]


def test_the_page_never_parses_text_as_html():
    """Everything shown goes through text nodes; keep the scripts free of HTML sinks."""
    for script in STATIC.glob("*.js"):
        source = script.read_text()
        for sink in DANGEROUS_SINKS:
            assert sink not in source, f"{script.name} uses {sink}"
    assert not re.search(r"\son[a-z]+=", (STATIC / "index.html").read_text())  # no inline JS
