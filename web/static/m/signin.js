// The worker app's own sign-in (inside the installed app shell, so it works without leaving /m).

import { auth, requestToken } from "../app/auth.js";
import { t } from "../app/i18n.js";

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
      const data = await requestToken(form.username.value.trim(), form.password.value);
      if (data.role !== "worker" || !data.worker_id) { throw new Error(t("m.not_worker")); }
      auth.save(data);
      form.password.value = "";
      section.hidden = true;
      onSignedIn(data);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  };
}
