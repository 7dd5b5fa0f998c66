// The bearer token the login page obtained, kept in this browser; every page's API calls go through here.
(function () {
  "use strict";
  var KEY = "gridcmd.auth";
  var strings = JSON.parse(document.getElementById("i18n").textContent);

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  var auth = {
    strings: strings,
    t: function (key) { return strings[key] || key; },
    session: load,
    token: function () { var s = load(); return s && s.access_token; },
    save: function (data) { window.localStorage.setItem(KEY, JSON.stringify(data)); },
    clear: function () { window.localStorage.removeItem(KEY); },
    toLogin: function () {
      var next = window.location.pathname + window.location.search;
      window.location.replace("/login?next=" + encodeURIComponent(next));
    },
    // A page that needs a login calls this first: false means it is on its way to /login.
    require: function () {
      if (auth.token()) { return true; }
      auth.toLogin();
      return false;
    },
    // GET JSON with the token; a 401 (expired, signed out elsewhere) sends the user back to /login.
    fetchJSON: function (url) {
      return fetch(url, { headers: { Authorization: "Bearer " + auth.token() } }).then(function (r) {
        if (r.status === 401) { auth.clear(); auth.toLogin(); throw new Error("not authenticated"); }
        if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
        return r.json();
      });
    },
    // Only same-origin paths may be a redirect target after login.
    safeNext: function (next) {
      return next && next.charAt(0) === "/" && next.charAt(1) !== "/" && next.charAt(1) !== "\\" ? next : "/screen";
    }
  };
  window.gridcmd = window.gridcmd || {};
  window.gridcmd.auth = auth;
})();
