// The login form: OAuth2 password grant against /api/v1/auth/token, then back to where the user came from.
(function () {
  "use strict";
  var auth = window.gridcmd.auth;
  var form = document.getElementById("login-form");
  var error = document.getElementById("login-error");
  var submit = document.getElementById("login-submit");

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = auth.t("login.busy");
    var body = new URLSearchParams({ username: form.username.value.trim(), password: form.password.value });
    fetch("/api/v1/auth/token", { method: "POST", body: body })
      .then(function (r) {
        if (r.status === 401 || r.status === 422) { throw new Error(auth.t("login.failed")); }
        if (!r.ok) { throw new Error(auth.t("login.error")); }
        return r.json();
      })
      .then(function (data) {
        auth.save(data);
        var next = new URLSearchParams(window.location.search).get("next");
        window.location.replace(auth.safeNext(next));
      })
      .catch(function (e) {
        error.textContent = e.message && e.message.indexOf("Failed to fetch") < 0 ? e.message : auth.t("login.error");
        error.hidden = false;
        submit.disabled = false;
        submit.textContent = auth.t("login.submit");
      });
  });
})();
