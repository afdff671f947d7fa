/* certreg: what time alone changes on a verification page; the 404 page's answer; the look-up's code, fetched by
   the pages that have a look-up (lookup.js); what Material's script did, which no page loads
   (site_src/overrides/main.html). Record text is only ever set with textContent, never as HTML. */
(function () {
  "use strict";

  function chinaNow() {  // the time in China (UTC+8, no daylight saving), where the certificates' dates are
    return new Date(Date.now() + 8 * 3600 * 1000).toISOString();
  }
  function today() { return chinaNow().slice(0, 10); }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  function byId(id) { return document.getElementById(id); }
  window.certreg = {byId: byId, today: today, fill: fill};  // (for lookup.js)

  function verify(d) {
    var t = d.t, now = today(), status = d.status, note = null;
    if (now > d.as_of) {  // only time can have changed since the build; a clock behind it changes nothing
      if ((status === "valid" || status === "suspended") && now > d.valid_until) {
        status = "expired";
        note = fill(t.expired_by_date, {date: d.valid_until});
      } else if (status === "suspended" && d.suspension_limit && now > d.suspension_limit) {
        note = fill(t.suspension_overdue, {date: d.suspension_limit});
      }
      var sv = byId("cr-surveillance");  // ZWL-6.1: a surveillance that has fallen due since the build
      if (sv && d.surveillance_due && now > d.surveillance_due && (status === "valid" || status === "suspended")) {
        sv.textContent = fill(t.surveillance_overdue, {date: d.surveillance_due});
        sv.className = "cr-overdue";
      }
      if (status !== d.status) {  // what the build said of the old status no longer applies
        ["cr-status-since", "cr-status-reason"].forEach(function (id) { if (byId(id)) { byId(id).hidden = true; } });
      }
      var box = byId("cr-status");
      box.className = "cr-status cr-status--" + status;
      box.setAttribute("data-status", status);
      byId("cr-status-word").textContent = t.status_long[status];
      if (note) { byId("cr-status-note").textContent = note; byId("cr-status-note").hidden = false; }
      byId("cr-status-when").textContent = fill(t.checked_in_browser, {today: now, date: d.as_of});
      var use = byId("cr-use"), ok = status === "valid";
      use.className = "cr-use cr-use--" + (ok ? "yes" : "no");
      use.textContent = fill(ok ? t.use_yes : t.use_no, {mark: d.mark ? t.use_mark : ""});
    }
    // a version's own page says what its paper is without any script; the certificate's page reads the version
    // that papers printed before named in their QR code (?v=N)
    var v = d.paper ? NaN : parseInt(new URLSearchParams(window.location.search).get("v"), 10);
    if (!isNaN(v)) {
      var paper = byId("cr-version-paper"), current = d.versions[d.versions.length - 1], text;
      if (v === current.version) {
        text = fill(t.version_current, {v: v});
      } else if (v >= 1 && v < current.version) {
        text = fill(t.version_superseded, {v: v, date: d.versions[v].date, current: current.version});
        var changed = [];
        d.versions.slice(v).forEach(function (x) { changed = changed.concat(x.changed); });
        if (changed.length) { text += t.gap + t.changed + t.colon + changed.join(t.sep); }
        byId("cr-version").className = "cr-version cr-version--old";
      } else {  // a version the certificate never had: no verdict of the certificate's holds for that paper
        text = fill(t.version_unknown, {v: v, date: d.as_of});
        byId("cr-version").className = "cr-version cr-version--old";
        var verdict = byId("cr-status");
        verdict.className = "cr-status cr-status--unknown";
        verdict.setAttribute("data-status", "unknown");
        verdict.setAttribute("role", "alert");
        byId("cr-status-word").textContent = t.version_unknown_word;
        ["cr-status-since", "cr-status-reason", "cr-status-note"].forEach(function (id) {
          if (byId(id)) { byId(id).hidden = true; }
        });
        var no = byId("cr-use");
        no.className = "cr-use cr-use--no";
        no.textContent = t.use_none;
      }
      paper.textContent = text;
      paper.hidden = false;
    }
  }

  // the 404 page: an address of a version a certificate never had (certificates/N/vK/) is told apart from a
  // number the registry does not have, by asking for that certificate's data
  function notFound(box) {
    var m = /\/certificates\/([^\/]+)\/v([0-9]+)\/?$/.exec(window.location.pathname);
    if (!m) { return; }
    var number, v = m[2];
    try { number = decodeURIComponent(m[1]); } catch (e) { return; }  // (a malformed address: no certificate's)
    fetch(box.dataset.home + "certificates/" + encodeURIComponent(number) + "/certificate.json")
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function () {
        ["cr-nf-word", "cr-nf-word-en"].forEach(function (id) { byId(id).textContent = byId(id).dataset.version; });
        var say = byId("cr-nf-version");
        ["zh", "en"].forEach(function (lang) {
          var p = document.createElement("p"), a = document.createElement("a");
          p.lang = lang;
          p.textContent = fill(say.dataset[lang], {number: number, v: v}) + " ";
          a.href = box.dataset.home + (lang === "en" ? "en/" : "") + "certificates/" + encodeURIComponent(number) + "/";
          a.textContent = fill(say.dataset["link" + lang.charAt(0).toUpperCase() + lang.slice(1)], {number: number});
          p.appendChild(a);
          say.appendChild(p);
        });
        say.hidden = false;
      })
      .catch(function () {});  // (no such certificate: the page says so already)
  }

  // printed for a bid file: when it was printed goes on the paper, beside the registry's name and the address
  function whenPrinted(t) {
    var at = byId("cr-printed");
    if (!at) { return; }
    window.addEventListener("beforeprint", function () {
      var now = chinaNow();
      at.textContent = fill(t.printed_at, {when: now.slice(0, 10) + " " + now.slice(11, 16) + " (UTC+8)"});
    });
  }

  // a page without Material's script (every page: site_src/overrides/main.html leaves it out; that script would
  // take the "no-js" class off) keeps what that script did there: the header shows the page's title once its
  // heading is scrolled under the header; Enter on a focused section of the navigation opens or closes it, and the
  // section says whether it is open; an element focused by the keyboard has the class "focus-visible" (its
  // polyfill's, which Material's stylesheet draws the focus rings by: a header button has none without it)
  function withoutMaterial() {
    var title = document.querySelector("[data-md-component=header-title]");
    var h1 = document.querySelector(".md-content h1"), header = document.querySelector(".md-header");
    if (title && h1 && header && window.IntersectionObserver) {
      new IntersectionObserver(function (seen) {
        var under = !seen[0].isIntersecting && seen[0].boundingClientRect.top < header.offsetHeight;
        title.classList.toggle("md-header__title--active", under);
      }, {rootMargin: -header.offsetHeight + "px 0px 0px 0px"}).observe(h1);
    }
    var byKeys = true;  // (as the polyfill: until a pointer is used)
    document.addEventListener("keydown", function (e) {
      if (!(e.metaKey || e.altKey || e.ctrlKey)) { byKeys = true; }
      if (e.key === "Enter" && document.activeElement instanceof HTMLLabelElement) { document.activeElement.click(); }
    }, true);
    ["mousedown", "pointerdown", "touchstart"].forEach(function (type) {
      document.addEventListener(type, function () { byKeys = false; }, true);
    });
    document.addEventListener("focus", function (e) {
      if (byKeys && e.target.classList) { e.target.classList.add("focus-visible"); }
    }, true);
    document.addEventListener("blur", function (e) {
      if (e.target.classList) { e.target.classList.remove("focus-visible"); }
    }, true);
    // the drawer closes when one of its links leads within the page (a phone's table of contents), as the page
    // scrolls to the heading under it
    var drawer = byId("__drawer");
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest(".md-sidebar a[href]");
      if (drawer && drawer.checked && a && a.hash && a.pathname === window.location.pathname) { drawer.checked = false; }
    });
    window.addEventListener("hashchange", function () { if (drawer) { drawer.checked = false; } });
    Array.prototype.forEach.call(document.querySelectorAll("label[tabindex][for]"), function (label) {
      var box = byId(label.htmlFor), section = document.querySelector('[aria-labelledby="' + label.id + '"]');
      if (box && section) {
        box.addEventListener("change", function () { section.setAttribute("aria-expanded", String(box.checked)); });
      }
    });
  }

  if (document.documentElement.classList.contains("no-js")) { withoutMaterial(); }
  var data = byId("cr-data");
  if (data) { var parsed = JSON.parse(data.textContent); verify(parsed); whenPrinted(parsed.t); }
  var missing = byId("cr-notfound");
  if (missing) { notFound(missing); }
  if (byId("cr-lookup")) {  // the look-up's code, beside this script
    var script = document.createElement("script");
    script.src = new URL("lookup.js", document.currentScript.src).href;
    document.head.appendChild(script);
  }
})();
