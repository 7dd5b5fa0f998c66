"""The 服务事项 tab of /admin in headless Chromium against a real server and the demo city: an administrator, only
through the page, is refused a bad item (the reasons beside the form, nothing written), creates an item, edits its
materials, finds it in the resident's guide on /r, withdraws it, and reads the three changes in the audit log."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser_kit import App, foreign_requests, open_page, shot
from tests.procs import free_port

PORT = free_port()
CODE = "T901"


async def test_an_admin_creates_edits_and_withdraws_a_service_item(app: App, browser: Browser) -> None:
    page = await open_page(browser, app, "/admin#catalogue", username="admin")
    await expect(page.locator("#catalogue tr[data-item='S001']")).to_be_visible(timeout=15000)
    form = page.locator("#item-form")
    await form.locator("[name=code]").fill(CODE)
    await form.locator("[name=name]").fill("高龄老人助餐卡办理")
    await form.locator("[name=group_name]").fill("公共服务")
    await form.locator("[name=department]").fill("区民政局")
    await form.locator("[name=category_code]").select_option("elderly_care")
    await form.locator("[name=level]").select_option("community")
    await form.locator("[name=item_type]").select_option("immediate")
    await form.locator("[name=conditions]").fill("本社区常住、年满80周岁的老年人")
    await form.locator("[name=materials]").fill("居民身份证\n近期一寸照片")
    await form.locator("[name=office]").fill("社区党群服务中心")
    await form.locator("[name=address]").fill("社区服务中心一楼")
    await form.locator("[name=hours]").fill("工作日 9:00-17:00")
    await form.locator("[name=phone]").fill("1")  # too short: refused, reasons beside the form
    await page.click("#item-save")
    await expect(page.locator("#item-errors")).to_contain_text("咨询电话")
    assert await app.sql("SELECT 1 FROM service_items WHERE code = :c", c=CODE) == []

    await form.locator("[name=phone]").fill("025-84400000")
    await page.click("#item-save")
    await expect(page.locator("#catalogue tr[data-item='T901']")).to_contain_text("已发布")
    await expect(page.locator("#item-errors")).to_be_empty()
    await form.locator("[name=materials]").fill("居民身份证\n近期一寸照片\n户口簿")
    await page.click("#item-save")
    await page.fill("#svc-search", "助餐卡")
    await expect(page.locator("#catalogue tbody tr")).to_have_count(1)
    await shot(page, "admin-catalogue")
    public = (await app.http.get(f"/api/v1/public/catalogue/{CODE}")).json()
    assert public["materials"] == ["居民身份证", "近期一寸照片", "户口簿"] and public["level"] == "community"

    r = await open_page(browser, app, "/r", width=412, height=915)
    await r.click("#guide summary")
    await r.fill("#guide-q", "助餐卡")
    await r.click(f"#guide-list li[data-code='{CODE}'] .g-item")
    await expect(r.locator(f"#guide-list li[data-code='{CODE}'] .g-detail")).to_contain_text("户口簿")
    await r.context.close()

    page.once("dialog", lambda d: d.accept())
    await page.click("#item-withdraw")
    await expect(page.locator("#catalogue tr[data-item='T901']")).to_contain_text("已撤下")
    assert (await app.http.get(f"/api/v1/public/catalogue/{CODE}")).status_code == 404

    await page.click("#tab-audit")
    await page.select_option("#audit-filter [name=entity]", "service_item")
    await expect(page.locator("#audit tbody tr")).to_have_count(3)
    audit = await page.inner_text("#audit")
    assert "撤下" in audit and "修改" in audit and "新建" in audit and "户口簿" in audit
    assert foreign_requests(page, app.base) == [] and page.errors == []  # type: ignore[attr-defined]
    await page.context.close()
