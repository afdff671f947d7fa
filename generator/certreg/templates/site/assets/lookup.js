/* certreg: the look-up, on the pages that have one (the home page, the 404 page), loaded by certreg.js there
   alone: a verification page does not download it. Its index is cut into shards fetched as the query needs them
   (publish/lookup.py). Record text is only ever set with textContent, never as HTML. */
(function () {
  "use strict";
  var byId = window.certreg.byId, today = window.certreg.today, fill = window.certreg.fill;

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
    show();  // (what was typed before this script came)
  }

  var input = byId("cr-lookup");
  if (input) { lookup(input); }
})();
