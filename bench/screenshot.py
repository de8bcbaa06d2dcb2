"""Full-page screenshots of the dashboard in Debian's chromium, driven by Playwright.

Usage: screenshot.py BASE_URL API_KEY OUT_DIR
The desktop page signs in through the login form (the session cookie); the phone page sends the bearer header.
Fails when the page has a console error, or when the phone page is wider than the phone.
"""
import sys

from playwright.sync_api import sync_playwright

base, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])

    desktop = browser.new_context(viewport={"width": 1440, "height": 900})
    page = desktop.new_page()
    page.on("console", lambda m: m.type == "error" and failures.append(f"desktop console: {m.text}"))
    page.goto(base + "/dashboard")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_selector(".kpis")
    cookie = [c for c in desktop.cookies() if c["name"] == "ca_session"]
    if not cookie or not cookie[0]["httpOnly"] or cookie[0]["sameSite"] != "Strict":
        failures.append(f"session cookie is not HttpOnly and SameSite=Strict: {cookie}")
    page.screenshot(path=f"{out}/dashboard-1440.png", full_page=True)
    # The download link works with the session alone.
    with page.expect_download() as download:
        page.click("text=CSV")
    header = open(download.value.path()).readline().strip()
    if not header.startswith("click_id,clicked_at"):
        failures.append(f"the CSV download is not the clicks report: {header}")

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
        extra_http_headers={"Authorization": f"Bearer {key}"})
    page = phone.new_page()
    page.on("console", lambda m: m.type == "error" and failures.append(f"phone console: {m.text}"))
    page.goto(base + "/dashboard")
    page.wait_for_selector(".kpis")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        failures.append(f"the phone page is {width} px wide, wider than the 390 px screen")
    page.screenshot(path=f"{out}/dashboard-390.png", full_page=True)
    browser.close()

for failure in failures:
    print("FAIL:", failure)
print(f"screenshots: {out}/dashboard-1440.png {out}/dashboard-390.png")
sys.exit(1 if failures else 0)
