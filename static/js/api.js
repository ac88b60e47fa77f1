// The fetch/CSRF helper for pages that call the JSON API with the session: window.labelgateApi.call(method,
// url, body) resolves to {status, data} (data is the parsed JSON body, or null for 204 or a body that is not
// JSON). Session-authenticated writes need Django's CSRF token, read from its cookie.
(function () {
  "use strict";

  function csrf() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    return { status: response.status, data };
  }

  window.labelgateApi = { call, csrf };
})();
