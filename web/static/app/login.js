// The login form: OAuth2 password grant against /api/v1/auth/token, then back to where the user came from.
import { auth, requestToken } from "./auth.js";
import { t } from "./i18n.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  submit.textContent = t("login.busy");
  try {
    auth.save(await requestToken(form.username.value.trim(), form.password.value));
    window.location.replace(auth.safeNext(new URLSearchParams(window.location.search).get("next")));
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    submit.disabled = false;
    submit.textContent = t("login.submit");
  }
});
