/* Every page: after a refused form, move the focus (and the view) to what went wrong, so that keyboard and
   screen-reader users do not start again at the top of a long page; ask before an action that cannot be
   undone with one click (forms with data-confirm); ask before leaving typed text unsent (forms with
   data-warn-unsaved); remember the browser's time zone for the times shown. */
(function () {
  "use strict";
  function focusProblem() {
    var target = document.querySelector(".error-summary") || document.querySelector("form .error, [aria-invalid=true]");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex") && !/^(INPUT|TEXTAREA|SELECT|BUTTON|A)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    var details = target.closest("details");
    if (details) { details.open = true; }
    target.focus();
  }
  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form && form.getAttribute && form.getAttribute("data-confirm");
      var submitter = event.submitter;
      if (submitter && submitter.getAttribute("data-confirm")) { message = submitter.getAttribute("data-confirm"); }
      if (message && !window.confirm(message)) { event.preventDefault(); }
    }, true);
  }
  /* A table wider than its box scrolls: keyboard users must be able to reach the box to scroll it, and screen
     readers hear what it holds (its caption). */
  function scrollableTables() {
    var boxes = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      // (a box that scrolls sideways scrolls up and down too when a row is taller than it shows)
      var scrolls = box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight;
      if (!scrolls || box.hasAttribute("tabindex")) { continue; }
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption");
      if (caption && caption.textContent.trim()) { box.setAttribute("aria-label", caption.textContent.trim()); }
    }
  }
  /* The error summary's links go to a question: move the focus into its first field, not to the page. */
  function summaryLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
      if (!link) { return; }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      var field = target && target.querySelector("input:not([type=hidden]), textarea, select");
      if (field) { event.preventDefault(); field.focus(); }
    });
  }
  /* Times are stored in UTC and shown in the browser's time zone: keep its name (e.g. Asia/Almaty) in a cookie
     that the server reads (app.i18n.select_timezone) from the next page on. */
  function storedZone() { return (document.cookie.match(/(?:^|;\s*)tz=([^;]*)/) || [])[1]; }
  function rememberTimeZone() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!/^[A-Za-z0-9_+\/-]+$/.test(zone) || storedZone() === zone) { return; }
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
    // The page showed its times in the server's zone because the cookie was not there yet (the server marks
    // such a page, only for a GET): load it once more, now that the cookie is set (if the browser keeps cookies).
    if (storedZone() === zone && document.getElementById("zone-guessed")) { window.location.reload(); }
  }
  /* Forms marked data-warn-unsaved hold text typed by hand (a reply, a comment, a rating's rationale): leaving
     the page while one differs from what the page came with asks first, as the answer pages do while an
     autosave is pending. data-warn-unsaved="kept" marks a form the server gave back after refusing it: what it
     holds is not saved either. Sending the form itself is not leaving it. */
  function differs(form) {
    var kept = form.getAttribute("data-warn-unsaved") === "kept";
    for (var i = 0; i < form.elements.length; i++) {
      var field = form.elements[i];
      if (field.type === "hidden" || field.disabled) { continue; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked || (kept && field.checked)) { return true; }
      } else if (field.tagName === "SELECT") {
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].selected !== field.options[j].defaultSelected) { return true; }
        }
      } else if (typeof field.defaultValue === "string" &&
                 (field.value !== field.defaultValue || (kept && field.value.trim()))) {
        return true;
      }
    }
    return false;
  }
  function unsavedWarnings() {
    var forms = document.querySelectorAll("form[data-warn-unsaved]");
    if (!forms.length) { return; }
    var sent = null;
    document.addEventListener("submit", function (event) { if (!event.defaultPrevented) { sent = event.target; } });
    window.addEventListener("beforeunload", function (event) {
      for (var i = 0; i < forms.length; i++) {
        if (forms[i] !== sent && differs(forms[i])) { event.preventDefault(); event.returnValue = ""; return; }
      }
    });
  }
  /* A box with data-limit takes any length (a maxlength would cut a pasted text without a word, and the cut text
     would be saved): past the limit, a note under it says by how much, until the text is short enough. The
     server refuses a longer text with what was typed kept. The note's wording is the page's <body data-limit-text>,
     with {count} and {limit}; line breaks count as one character, as the server counts them. */
  function lengthLimits() {
    var template = document.body.getAttribute("data-limit-text");
    if (!template) { return; }
    var lang = document.documentElement.lang || undefined;
    function check(field) {
      var limit = parseInt(field.getAttribute("data-limit"), 10);
      var count = field.value.replace(/\r\n/g, "\n").length;
      var note = document.getElementById(field.id + "-limit");
      if (!limit || count <= limit) {
        if (note) { note.parentNode.removeChild(note); }
        return;
      }
      if (!note) {
        note = document.createElement("p");
        note.id = field.id + "-limit";
        note.className = "error limit-note";
        note.setAttribute("role", "status");
        field.parentNode.insertBefore(note, field.nextSibling);
      }
      note.textContent = template.replace("{count}", count.toLocaleString(lang)).replace("{limit}", limit.toLocaleString(lang));
    }
    document.addEventListener("input", function (event) {
      var field = event.target;
      if (field && field.hasAttribute && field.hasAttribute("data-limit") && field.id) { check(field); }
    });
    var fields = document.querySelectorAll("[data-limit]");
    for (var i = 0; i < fields.length; i++) { if (fields[i].id) { check(fields[i]); } }
  }
  function start() {
    rememberTimeZone(); focusProblem(); confirmations(); scrollableTables(); summaryLinks(); unsavedWarnings();
    lengthLimits();
    // a table can become wider than its box later: fonts and charts loaded, the window narrowed
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(scrollableTables);
      document.querySelectorAll(".table-wrap, .table-wrap > table").forEach(function (el) { observer.observe(el); });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
