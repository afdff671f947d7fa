/* certreg: what time alone changes on a verification page, and the look-up on the home page.
   Record text is only ever set with textContent, never as HTML. */
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

  // --- the look-up: its index is cut into shards fetched as the query needs them (publish/lookup.py) ---

  var DROPPED = /[\p{Z}\p{P}\p{Cc}\p{Cf}]/gu;  // spaces, punctuation (dashes, quotes, middle dots), control
  function norm(text, extra) {  // lookup.normalise: NFKC, lower case, without DROPPED and the index's extra_dropped
    var s = text.normalize("NFKC").toLowerCase().replace(DROPPED, ""), out = "";
    for (var i = 0; i < s.length; i++) { if (extra.indexOf(s[i]) < 0) { out += s[i]; } }
    return out;
  }
  function gramsOf(q, meta) {  // lookup.query_grams: by code point, as Python counts characters
    var cps = Array.from(q), out = [];
    for (var i = 0; i < cps.length; i++) {
      var n = cps[i] < "\x80" ? meta.ascii_gram : meta.wide_gram;
      if (i + n <= cps.length) {
        var g = cps.slice(i, i + n).join("");
        if (out.indexOf(g) < 0) { out.push(g); }
      }
    }
    return out;
  }
  function chosen(gs, most) {  // lookup.chosen: at most ``most`` grams, spread from the first to the last
    if (gs.length <= most) { return gs; }
    var out = [];
    for (var i = 0; i < most; i++) {
      out.push(gs[Math.floor((2 * i * (gs.length - 1) + most - 1) / (2 * (most - 1)))]);
    }
    return out;
  }
  function hash(text) {  // lookup.fnv1a: 32-bit FNV-1a of the UTF-8 bytes
    var bytes = new TextEncoder().encode(text), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0; }
    return h;
  }
  function own(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  window.certregLookup = {norm: norm, grams: gramsOf, chosen: chosen, hash: hash};  // (the tests compare them)

  function lookup(input) {
    var results = byId("cr-lookup-results"), now = today(), statuses = JSON.parse(input.dataset.statuses);
    var files = {}, asked = 0;
    function get(path) {  // a file of the index, fetched once
      if (!own(files, path)) {
        files[path] = fetch(input.dataset.index + path)
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
      }
      return files[path];
    }
    function search(q, meta) {  // lookup.fetched: {rows: [[number, row]...], more} or {say: why none are listed}
      var gs = chosen(gramsOf(q, meta), meta.max_grams);
      if (!gs.length) { return {say: "short"}; }
      return Promise.all(gs.map(function (g) { return get("g/" + (hash(g) % meta.grams) + ".json"); }))
        .then(function (shards) {
          var lists = [];
          for (var i = 0; i < gs.length; i++) {
            if (!own(shards[i], gs[i])) { return {rows: [], more: false}; }  // no certificate has this gram
            var flat = shards[i][gs[i]];  // number, mask (which of its texts have the gram), number, mask...
            if (!flat) { continue; }  // (0: too common to list)
            var masks = new Map();
            for (var k = 0; k < flat.length; k += 2) { masks.set(flat[k], flat[k + 1]); }
            lists.push(masks);
          }
          if (!lists.length) { return {say: "many"}; }
          var candidates = [];  // those with every gram in one of their texts
          lists[0].forEach(function (mask, n) {
            for (var j = 1; j < lists.length && mask; j++) { mask &= lists[j].get(n) || 0; }
            if (mask) { candidates.push(n); }
          });
          var capped = candidates.length > meta.checked;  // (then some may be left unseen: "type more")
          candidates = candidates.slice(0, meta.checked);
          var shown = [];
          function next(from) {  // the rows of the next candidates, until enough of them contain the query
            var batch = candidates.slice(from, from + meta.shown - shown.length);
            if (!batch.length) { return {rows: shown, more: capped && shown.length > 0}; }
            return Promise.all(batch.map(function (n) { return get("r/" + (hash(n) % meta.rows) + ".json"); }))
              .then(function (rows) {
                batch.forEach(function (n, i) {
                  var row = own(rows[i], n) ? rows[i][n] : null;
                  if (row && row[4].some(function (t) { return t.indexOf(q) >= 0; })) { shown.push([n, row]); }
                });
                var at = from + batch.length;
                return shown.length >= meta.shown ? {rows: shown, more: at < candidates.length} : next(at);
              });
          }
          return next(0);
        });
    }
    function say(text) {
      var li = document.createElement("li");
      li.textContent = text;
      results.appendChild(li);
    }
    function list(answer) {
      results.textContent = "";
      if (answer.say) { say(input.dataset[answer.say]); return; }
      if (!answer.rows.length) { say(input.dataset.none); }
      answer.rows.forEach(function (found) {
        var number = found[0], r = found[1];  // r: status, holder, product, valid until, the texts searched
        // the index says the status on the build's date; time alone may have ended the validity since
        var status = (r[0] === "valid" || r[0] === "suspended") && now > r[3] ? "expired" : r[0];
        var li = document.createElement("li"), a = document.createElement("a"), badge = document.createElement("span");
        a.href = input.dataset.home + "certificates/" + encodeURIComponent(number) + "/";
        a.textContent = number;
        badge.className = "cr-badge cr-badge--" + status;
        var icon = document.createElement("span");
        icon.className = "cr-icon";
        icon.setAttribute("aria-hidden", "true");
        badge.appendChild(icon);
        badge.appendChild(document.createTextNode(statuses[status] || status));
        var sub = document.createElement("span");
        sub.className = "cr-r-sub";
        sub.textContent = r[1] + (r[2] ? " · " + r[2] : "") + " · " + fill(input.dataset.until, {date: r[3]});
        li.appendChild(a); li.appendChild(document.createTextNode(" ")); li.appendChild(badge); li.appendChild(sub);
        results.appendChild(li);
      });
      if (answer.more) { say(fill(input.dataset.more, {n: answer.rows.length})); }
    }
    function show() {  // nothing is fetched until something is typed
      var typed = input.value, mine = ++asked;
      results.textContent = "";
      if (!typed.trim()) { return; }
      say(input.dataset.loading);
      get("index.json")
        .then(function (meta) { var q = norm(typed, meta.extra_dropped); return q ? search(q, meta) : {say: "short"}; })
        .then(function (answer) { if (mine === asked) { list(answer); } })
        .catch(function () { if (mine === asked) { results.textContent = ""; say(input.dataset.failed); } });
    }
    input.addEventListener("input", show);
  }

  // the 404 page: an address of a version a certificate never had (certificates/N/vK/) is told apart from a
  // number the registry does not have, by asking for that certificate's data
  function notFound(box) {
    var m = /\/certificates\/([^\/]+)\/v([0-9]+)\/?$/.exec(window.location.pathname);
    if (!m) { return; }
    var number = decodeURIComponent(m[1]), v = m[2];
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

  var data = byId("cr-data");
  if (data) { var parsed = JSON.parse(data.textContent); verify(parsed); whenPrinted(parsed.t); }
  var missing = byId("cr-notfound");
  if (missing) { notFound(missing); }
  var input = byId("cr-lookup");
  if (input) { lookup(input); }
})();
