// The worker app's own sign-in (inside the installed app shell, so it works without leaving /m).

import { t } from "/static/app/i18n.js";

const auth = () => window.gridcmd.auth;

export function showSignin({ onSignedIn }) {
  const section = document.getElementById("signin");
  const form = document.getElementById("signin-form");
  const error = document.getElementById("signin-error");
  const submit = document.getElementById("signin-submit");
  document.getElementById("main").hidden = true;
  section.hidden = false;

  form.onsubmit = async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const body = new URLSearchParams({ username: form.username.value.trim(), password: form.password.value });
      const r = await fetch("/api/v1/auth/token", { method: "POST", body });
      if (r.status === 401 || r.status === 422) { throw new Error(t("login.failed")); }
      if (!r.ok) { throw new Error(t("login.error")); }
      const data = await r.json();
      if (data.role !== "worker" || !data.worker_id) { throw new Error(t("m.not_worker")); }
      auth().save(data);
      form.password.value = "";
      section.hidden = true;
      onSignedIn(data);
    } catch (e) {
      error.textContent = e instanceof TypeError ? t("login.error") : e.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  };
}
